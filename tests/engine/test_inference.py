"""The inference layer: a checkpoint back to its model, a VideoModel's test-time inputs, the predict loop."""

import numpy as np
import pytest
import torch

from dfer import labels
from dfer.data.formats import reader_options
from dfer.engine.config import load_config
from dfer.engine.data import load_clips, make_dataset, make_loader
from dfer.engine.inference import VideoModel, load_checkpoint, model_from_config, predict
from dfer.errors import DatasetError

from tests.conftest import CONFIGS, make_checkpoint


def test_load_checkpoint_restores_the_model_and_its_config(tmp_path):
    path = make_checkpoint(tmp_path, "ferv39k_2d")
    model, config, classes = load_checkpoint(path)
    assert config == load_config(CONFIGS / "ferv39k_2d.yaml") and not model.training and classes == labels.EXPRESSIONS
    saved = torch.load(path, weights_only=False)["model"]
    assert all(torch.equal(model.state_dict()[key], value) for key, value in saved.items())
    other = load_config(CONFIGS / "ferv39k_2d_lstm.yaml")  # another model than the weights were made for
    with pytest.raises(DatasetError, match="is for model"):
        load_checkpoint(path, config=other)


def test_a_weights_only_file_is_not_a_training_checkpoint(tmp_path):
    model = model_from_config(load_config(CONFIGS / "ferv39k_2d.yaml").model)
    torch.save({"model": model.state_dict()}, tmp_path / "bare.pt")
    with pytest.raises(DatasetError, match="not a dfer training checkpoint"):
        load_checkpoint(tmp_path / "bare.pt")
    loaded, _, _ = load_checkpoint(tmp_path / "bare.pt", config=load_config(CONFIGS / "ferv39k_2d.yaml"))  # with a config
    assert all(torch.equal(loaded.state_dict()[key], value) for key, value in model.state_dict().items())


@pytest.mark.parametrize("config_name, frames", [("ferv39k_2d", 4), ("ferv39k_ceflnet", 3 * 2)])
def test_video_model_samples_and_transforms_as_at_test_time(tmp_path, config_name, frames):
    model = VideoModel.from_checkpoint(make_checkpoint(tmp_path, config_name))
    crops = [np.full((60, 60, 3), 6 * i, np.uint8) for i in range(40)]
    video, scene, chosen = model.window_input(crops, None)
    size = tuple(model.config.data.size)
    assert video.shape == (3, frames, *size) and scene is None and len(chosen) == frames
    assert chosen.tolist() == np.ravel(model.sampler(40, "test")).tolist()
    output = model(video, scene)
    assert output["probabilities"].shape == (7,) and abs(output["probabilities"].sum() - 1) < 1e-5
    assert ("located_clip" in output) == (config_name == "ferv39k_ceflnet")


def test_predict_loop_covers_every_clip_once(synthetic, tmp_path):
    config = load_config(CONFIGS / "ferv39k_2d.yaml", [f"data.root={synthetic('ferv39k')}", "data.workers=0"])
    table = load_clips(config.data, config.seed)
    rows = table[table.split == "test"].reset_index(drop=True)
    loader, _ = make_loader(make_dataset(rows, config.data, train=False, seed=0), 5, shuffle=False, seed=0, workers=0)
    model, _, _ = load_checkpoint(make_checkpoint(tmp_path, "ferv39k_2d"))
    raw = predict(model, loader, torch.device("cpu"), keep_features=True)
    assert sorted(raw["index"].tolist()) == list(range(len(rows))) and raw["clip_id"] == rows.clip_id.tolist()
    assert raw["probabilities"].shape == (len(rows), 7) and np.allclose(raw["probabilities"].sum(axis=1), 1, atol=1e-5)
    assert (raw["prediction"] == raw["probabilities"].argmax(axis=1)).all()
    assert raw["features"].shape == (len(rows), model.feature_dim)


def test_reader_options_are_the_readers_defaults():
    assert reader_options("dfew", fold=2) == {"fold": 2, "source": "clip_224x224"}
    assert reader_options("ferv39k", setup="DL", with_scene=True) == {"setup": "DL", "source": "faces", "with_scene": True}
    assert reader_options("ferv39k", source="video")["source"] == "video" and reader_options("manifest") == {}
