"""The torch-free runner of exported models: what it refuses, and that it loads no torch."""

import json
import subprocess
import sys

import onnx
import pytest
from onnx import TensorProto, helper

from dfer import labels
from dfer.engine.onnx_model import METADATA_KEY, OnnxVideoModel
from dfer.errors import DatasetError


def identity_onnx(path, metadata: dict | None = None):
    """A one-node ONNX file (``video`` → ``probabilities``), with ``metadata`` under dfer's key if given."""
    video = helper.make_tensor_value_info("video", TensorProto.FLOAT, ["batch", 7])
    probabilities = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 7])
    node = helper.make_node("Identity", ["video"], ["probabilities"])
    graph = helper.make_graph([node], "g", [video], [probabilities])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if metadata is not None:
        helper.set_model_props(model, {METADATA_KEY: json.dumps(metadata)})
    onnx.save(model, str(path))
    return path


METADATA = {"format": 1, "model": "resnet18", "classes": list(labels.EXPRESSIONS),
            "sampler": {"name": "uniform", "options": {"k": 4}}, "length": 4, "clips": 1, "size": [48, 48],
            "scene_size": None, "transform": {"resize": [48, 48], "mean": [0.5] * 3, "std": [0.25] * 3},
            "scene_transform": None, "flow": None, "inputs": {"video": ["batch", 7]}, "outputs": ["probabilities"]}


def test_files_it_cannot_run_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="absent.onnx: ONNX model not found"):
        OnnxVideoModel(tmp_path / "absent.onnx")
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(DatasetError, match="text.onnx: cannot be read as an ONNX model"):
        OnnxVideoModel(tmp_path / "text.onnx")
    with pytest.raises(DatasetError, match="plain.onnx: an ONNX model without dfer's metadata .*dfer export"):
        OnnxVideoModel(identity_onnx(tmp_path / "plain.onnx"))
    with pytest.raises(DatasetError, match="newer dfer \\(metadata format 2"):
        OnnxVideoModel(identity_onnx(tmp_path / "new.onnx", {**METADATA, "format": 2}))
    mafw = {**METADATA, "classes": list(labels.MAFW_EXPRESSIONS)}
    with pytest.raises(DatasetError, match="classifies 11 classes of its own"):
        OnnxVideoModel(identity_onnx(tmp_path / "mafw.onnx", mafw))


def test_a_described_file_loads_with_its_window_and_without_torch(tmp_path):
    path = identity_onnx(tmp_path / "ok.onnx", METADATA)
    script = ("import sys\nfrom dfer.engine.onnx_model import OnnxVideoModel\n"
              f"model = OnnxVideoModel({str(path)!r})\n"
              "print(model.name, model.length, model.size, model.scene_size, model.clips, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["resnet18", "(ok.onnx)", "4", "48", "None", "1", "False"]
