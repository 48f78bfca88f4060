"""``dfer export``: one checkpoint per zoo family to ONNX, run without torch as its checkpoint runs,
and the refusals."""

import numpy as np
import pytest
import torch

from dfer.cli import main
from dfer.engine import export as export_module
from dfer.engine.export import export
from dfer.engine.inference import VideoModel
from dfer.engine.onnx_model import OnnxVideoModel
from dfer.errors import DatasetError, InputError
from dfer.io.hashing import sha256

from tests.conftest import make_checkpoint

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

FAMILIES = {"ferv39k_2d": "resnet18", "ferv39k_2d_lstm": "resnet18_lstm", "ferv39k_3d": "resnet3d_18",
            "ferv39k_two_stream": "two_resnet18_lstm", "ferv39k_tsn": "tsn_resnet18", "ferv39k_ceflnet": "ceflnet"}


def clip(count: int, shape, seed: int) -> list[np.ndarray]:
    """``count`` random uint8 RGB images of another size than the model's (so the resize is used)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize("config_name", sorted(FAMILIES))
def test_each_family_runs_from_onnx_as_from_its_checkpoint(tmp_path, config_name):
    checkpoint = make_checkpoint(tmp_path, config_name)
    result = export(checkpoint)
    assert result.path == checkpoint.with_suffix(".onnx") and result.path.is_file() and result.max_delta <= 1e-4
    reference, runner = VideoModel.from_checkpoint(checkpoint), OnnxVideoModel(result.path)

    meta = runner.metadata
    assert meta == result.metadata and meta["model"] == FAMILIES[config_name]
    assert meta["checkpoint_sha256"] == sha256(checkpoint)
    assert meta["sampler"]["name"] == reference.config.data.sampler.name
    assert (runner.length, runner.size, runner.scene_size, runner.clips) == \
        (reference.length, reference.size, reference.scene_size, reference.clips)
    assert meta["transform"]["mean"] == reference.transform.transforms[-1].mean

    windows = []
    for seed, count in ((0, reference.length), (1, reference.length + 5)):  # a full window and a longer clip
        faces, scenes = clip(count, (60, 52), seed), clip(count, (40, 50), seed + 10)
        expected, got = reference.window_input(faces, scenes), runner.window_input(faces, scenes)
        assert got[2].tolist() == expected[2].tolist()
        np.testing.assert_allclose(got[0], expected[0].numpy(), rtol=0, atol=1e-6)
        assert (got[1] is None) == (expected[1] is None) == ("scene" not in meta["inputs"])
        if got[1] is not None:
            np.testing.assert_allclose(got[1], expected[1].numpy(), rtol=0, atol=1e-6)
        windows.append((got, expected))

    (got, expected), _ = windows
    one, other = runner(*got[:2]), reference(*expected[:2])  # batch 1, as dfer predict runs windows
    assert np.abs(one["probabilities"] - other["probabilities"]).max() <= 1e-4
    assert one.get("located_clip") == other.get("located_clip")
    assert ("located_clip" in one) == (config_name == "ferv39k_ceflnet")

    video = torch.stack([expected[0] for _, expected in windows])  # batch 2
    scene = None if windows[0][1][1] is None else torch.stack([expected[1] for _, expected in windows])
    expected = reference.outputs(video, scene)
    got = runner.outputs(video.numpy(), None if scene is None else scene.numpy())
    assert got["probabilities"].shape == (2, 7)
    assert np.abs(got["probabilities"] - expected["logits"].softmax(dim=1).numpy()).max() <= 1e-4
    assert np.abs(got["logits"] - expected["logits"].numpy()).max() <= 1e-3
    if "located_clip" in got:
        assert got["located_clip"].tolist() == expected["located_clip"].tolist()
        assert np.abs(got["clip_scores"] - expected["clip_scores"].numpy()).max() <= 1e-4

    card = result.card.read_text()
    assert result.card == tmp_path / f"{config_name}.MODEL_CARD.md"
    assert "## ONNX export" in card and sha256(result.path) in card and sha256(checkpoint) in card
    assert "nan" not in card and "No test metrics were recorded" in card  # a bare checkpoint was never tested


@pytest.fixture(scope="module")
def run_checkpoint(tmp_path_factory):
    """A 2D checkpoint where ``dfer train`` puts it, with the run's MODEL_CARD.md recording its sha256."""
    run = tmp_path_factory.mktemp("runs") / "small"
    (run / "checkpoints").mkdir(parents=True)
    checkpoint = make_checkpoint(run / "checkpoints", "ferv39k_2d").rename(run / "checkpoints" / "best.pt")
    (run / "MODEL_CARD.md").write_text(f"# the run's own card\n\n`best.pt`, sha256 `{sha256(checkpoint)}`.\n")
    return checkpoint


def test_the_run_card_goes_beside_the_onnx_file_and_an_export_is_replaced(run_checkpoint, tmp_path):
    first = export(run_checkpoint, tmp_path / "small.onnx")
    card = first.card.read_text()
    assert first.card == tmp_path / "small.MODEL_CARD.md"
    assert card.startswith("# the run's own card") and f"max |Δ| {first.max_delta:.1e}" in card
    assert "dfer predict video.mp4 --model small.onnx" in card
    again = export(run_checkpoint, tmp_path / "small.onnx")  # its own earlier export is replaced
    assert again.metadata == first.metadata and not list(tmp_path.glob(".*partial"))


def test_a_graph_that_does_not_match_is_not_written(run_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "verify", lambda graph, inputs, path: (0.02, True))
    with pytest.raises(DatasetError, match=r"does not reproduce the model \(max \|Δ\| of the probabilities 2.0e-02"):
        export(run_checkpoint, tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []


def test_refusals(run_checkpoint, tmp_path):
    with pytest.raises(InputError, match="unknown export format 'tflite'; choose one of onnx"):
        export(run_checkpoint, tmp_path / "m.onnx", format="tflite")
    with pytest.raises(SystemExit, match="2"):  # the command line refuses it as a bad choice
        main(["export", str(run_checkpoint), "--format", "tflite"])
    with pytest.raises(DatasetError, match="checkpoint not found"):
        export(tmp_path / "absent.pt")
    model = torch.nn.Linear(2, 2)
    torch.save({"model": model.state_dict()}, tmp_path / "bare.pt")
    with pytest.raises(DatasetError, match="not a dfer training checkpoint"):
        export(tmp_path / "bare.pt")
    (tmp_path / "notes.txt").write_text("not a checkpoint")
    with pytest.raises(DatasetError, match="notes.txt: refused"):
        export(tmp_path / "notes.txt", tmp_path / "notes.onnx")
    with pytest.raises(InputError, match="must end in .onnx"):
        export(run_checkpoint, tmp_path / "model.bin")
    (tmp_path / "mine.onnx").write_text("a file of my own")
    with pytest.raises(DatasetError, match="exists and is not a dfer export"):
        export(run_checkpoint, tmp_path / "mine.onnx")
    assert (tmp_path / "mine.onnx").read_text() == "a file of my own"
