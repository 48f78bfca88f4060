"""The PyTorch mini-Xception port against the original Keras model's stored outputs."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from dfer import labels
from dfer.models.mini_xception import MiniXception, _MaxPoolSame, load_keras_weights, preprocess_faces

from tests.conftest import SHARED

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

WEIGHTS = SHARED / "models" / "emotion_model.hdf5"
REFERENCE = np.load(Path(__file__).parent / "data" / "keras_reference.npz")  # tools/keras_reference.py


@pytest.fixture(scope="module")
def model():
    return load_keras_weights(MiniXception(), WEIGHTS)


def test_matches_keras_on_real_faces_and_noise(model):
    with torch.no_grad():
        ours = torch.softmax(model(preprocess_faces(REFERENCE["faces"])), dim=1).numpy()
    keras = REFERENCE["probabilities"]
    assert np.abs(ours - keras).max() < 1e-5
    assert (ours.argmax(1) == keras.argmax(1)).all()


def test_size_and_parameters(model):
    assert sum(p.numel() for p in model.parameters()) == 56951
    buffers = sum(b.numel() for name, b in model.named_buffers() if "running" in name)
    assert sum(p.numel() for p in model.parameters()) + buffers == 58423  # Keras' count


def test_max_pool_same_pads_like_tensorflow():
    # TF 'same', stride 2, size 3 on 4 columns: windows [0,1,2], [2,3,pad] → the last value alone
    x = torch.tensor([[[[1.0, 2.0, 3.0, 9.0]]]]).expand(1, 1, 4, 4).clone()
    assert _MaxPoolSame()(x)[0, 0, 0].tolist() == [3.0, 9.0]


def test_not_a_model_file_is_refused(tmp_path):
    bad = tmp_path / "model.hdf5"
    bad.write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable Keras HDF5"):
        load_keras_weights(MiniXception(), bad)


def test_default_classifier_returns_canonical_order():
    from dfer.models.default import DefaultClassifier

    classifier = DefaultClassifier(WEIGHTS)
    probabilities = classifier(REFERENCE["faces"])
    keras = REFERENCE["probabilities"]
    for canonical, name in enumerate(labels.EXPRESSIONS):
        assert np.allclose(probabilities[:, canonical], keras[:, labels.FER2013_ORDER.index(name)], atol=1e-5)


def test_the_onnx_file_is_made_once_recorded_and_remade_when_it_changes(tmp_path, monkeypatch):
    import json

    from dfer.io.hashing import sha256
    from dfer.models.default import onnx_model

    monkeypatch.setenv("DFER_HOME", str(tmp_path))
    made = onnx_model(WEIGHTS)
    record = json.loads(made.with_name(made.name + ".json").read_text())
    assert made.parent == tmp_path / "derived" and record == {
        "source": WEIGHTS.name, "source_sha256": sha256(WEIGHTS), "onnx_sha256": sha256(made)}
    from dfer.models.default import model_card_path

    card = model_card_path(made).read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["datasets"] == ["fer2013"] and record["source_sha256"] in card and record["onnx_sha256"] in card
    assert "## Limitations and biases" in card and "grey" in card
    stamp = made.stat().st_mtime_ns
    assert onnx_model(WEIGHTS) == made and made.stat().st_mtime_ns == stamp  # kept
    made.write_bytes(b"damaged")
    assert onnx_model(WEIGHTS) == made and sha256(made) == record["onnx_sha256"]  # made again, the same


def test_onnx_and_the_pytorch_port_agree(model):
    import onnxruntime

    from dfer.models.default import onnx_model, preprocess

    session = onnxruntime.InferenceSession(str(onnx_model(WEIGHTS)), providers=["CPUExecutionProvider"])
    faces = REFERENCE["faces"]
    onnx_logits = session.run(None, {"faces": preprocess(faces)})[0]
    with torch.no_grad():
        torch_logits = model(preprocess_faces(faces)).numpy()
    assert np.abs(onnx_logits - torch_logits).max() < 1e-4 and len(onnx_logits) == len(faces)  # any batch size
