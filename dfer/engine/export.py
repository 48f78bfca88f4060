"""``dfer export``: a ``dfer train`` checkpoint as an ONNX file that runs without torch.

:func:`export` writes the model of any zoo family (2D, 2D-LSTM, 3D, two-stream, TSN, CEFLNet) with
PyTorch's legacy (TorchScript) exporter at opset :data:`OPSET`, with a dynamic batch axis. The graph
(:class:`ExportGraph`) takes ``video`` ``(B, 3, T, H, W)`` normalised as at test time, plus ``scene``
(two-stream) or ``flow`` (TSN's optical flow, which OpenCV computes outside the graph,
:func:`dfer.models.flow.stacked_flow`), and gives ``probabilities`` (the softmax is in the graph),
``logits`` and, for CEFLNet, ``located_clip`` and ``clip_scores``. Everything a runner needs besides
the graph — classes, sampler, transforms, window length — is JSON in the file's ``metadata_props``
under ``"dfer"`` (:func:`describe`); :class:`dfer.engine.onnx_model.OnnxVideoModel` runs the file.

Before the file is renamed into place, onnxruntime runs it on the random clips it was traced with
(batch 2, the batch axis being dynamic); a difference in the probabilities over ``tolerance``, or
another located clip, stops the export. The run's MODEL_CARD.md (when it records this checkpoint's
sha256), or a card made from the checkpoint's config, goes beside the file with an ONNX section.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dfer import __version__
from dfer.data.transforms import Compose, Normalize, Resize
from dfer.engine.inference import VideoModel, load_checkpoint
from dfer.engine.model_card import model_card
from dfer.engine.onnx_model import METADATA_FORMAT, METADATA_KEY
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import atomic_path
from dfer.io.hashing import sha256
from dfer.models.ceflnet import CEFLNet
from dfer.models.default import model_card_path
from dfer.models.tsn import TSN
from dfer.models.two_stream import TwoStream

FORMATS = ("onnx",)
OPSET = 17
#: The largest difference in probabilities between onnxruntime and PyTorch an export may show.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote: the ONNX file, its model card, the largest difference in the
    probabilities between onnxruntime and PyTorch, and the metadata stored in the file."""

    path: Path
    card: Path
    max_delta: float
    metadata: dict


class ExportGraph(torch.nn.Module):
    """A zoo model as its ONNX graph runs: named inputs in, ``probabilities`` (softmax of the
    logits), ``logits`` and CEFLNet's ``located_clip`` and ``clip_scores`` out."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.input_names = ["video"] + (["scene"] if isinstance(model, TwoStream) else
                                        ["flow"] if isinstance(model, TSN) else [])
        self.output_names = ["probabilities", "logits"] + (["located_clip", "clip_scores"]
                                                           if isinstance(model, CEFLNet) else [])

    def forward(self, video: torch.Tensor, second: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        if isinstance(self.model, TSN):  # ``second`` is the flow
            features = self.model.forward_features(video, flow=second)
            outputs = {"logits": self.model.classifier(self.model.dropout(features))}
        else:
            outputs = self.model(video, second)
        logits = outputs["logits"]
        return (logits.softmax(dim=1), logits, *(outputs[name] for name in self.output_names[2:]))


def example_inputs(model: VideoModel, batch: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random inputs of ``model``'s graph (see :class:`ExportGraph`) for ``batch`` clips."""
    generator = torch.Generator().manual_seed(seed)
    frames = np.ravel(model.sampler(model.length, "test")).size
    video = torch.randn(batch, 3, frames, *model.config.data.size, generator=generator)
    inputs = {"video": video}
    if isinstance(model.model, TwoStream):
        inputs["scene"] = torch.randn(batch, 3, frames, *model.scene_size, generator=generator)
    if isinstance(model.model, TSN):
        tsn = model.model
        inputs["flow"] = tsn.optical_flow(video.reshape(batch, 3, tsn.segments, tsn.flow_length + 1, *video.shape[-2:]))
    return inputs


def transform_spec(transform: Compose) -> dict:
    """A test transform (resize, then normalise) as data a NumPy runner can follow."""
    steps = transform.transforms
    if [type(step) for step in steps] != [Resize, Normalize]:
        raise InputError(f"the test transform {transform!r} is not a resize then a normalisation; it cannot be "
                         "described in an ONNX export")
    resize, normalize = steps
    return {"resize": list(resize.size), "interpolation": "bilinear, antialiased, uint8 (torchvision)",
            "mean": normalize.mean, "std": normalize.std}


def describe(model: VideoModel, classes, graph: ExportGraph, inputs: dict, checkpoint: Path, digest: str) -> dict:
    """The metadata stored in the ONNX file: what a runner needs besides the graph."""
    data = model.config.data
    tsn = model.model if isinstance(model.model, TSN) else None
    return {
        "format": METADATA_FORMAT, "model": model.config.model.name, "classes": list(classes),
        "sampler": {"name": data.sampler.name, "options": dict(data.sampler.options)},
        "length": int(model.length), "clips": int(model.clips), "size": list(data.size),
        "scene_size": list(model.scene_size) if "scene" in inputs else None,
        "transform": transform_spec(model.transform),
        "scene_transform": transform_spec(model.scene_transform) if "scene" in inputs else None,
        "flow": None if tsn is None else {"segments": tsn.segments, "length": tsn.flow_length,
                                          "bound": float(tsn.flow_bound)},
        "inputs": {name: ["batch", *tensor.shape[1:]] for name, tensor in inputs.items()},
        "outputs": graph.output_names, "checkpoint": checkpoint.name, "checkpoint_sha256": digest,
        "opset": OPSET, "dfer_version": __version__,
    }


def write_onnx(graph: ExportGraph, inputs: dict, target: Path, metadata: dict) -> None:
    """Trace ``graph`` on ``inputs`` into ``target`` (batch axis dynamic) and store ``metadata``."""
    import onnx

    names = graph.input_names + graph.output_names
    traced = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on the legacy path, traced shapes and LSTM batches
        torch.onnx.export(graph, tuple(inputs[name] for name in graph.input_names), traced,
                          input_names=graph.input_names, output_names=graph.output_names,
                          dynamic_axes={name: {0: "batch"} for name in names}, opset_version=OPSET, dynamo=False)
    proto = onnx.load_from_string(traced.getvalue())
    onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(metadata)})
    proto.doc_string = f"dfer export of {metadata['checkpoint']} ({metadata['model']})"
    onnx.save(proto, str(target))


def verify(graph: ExportGraph, inputs: dict, onnx_file: Path) -> tuple[float, bool]:
    """The largest |Δ| of the probabilities between onnxruntime running ``onnx_file`` and PyTorch
    on ``inputs``, and whether CEFLNet's located clips agree."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = dict(zip(graph.output_names, graph(*(inputs[name] for name in graph.input_names))))
    got = dict(zip(graph.output_names, session.run(None, {name: tensor.numpy() for name, tensor in inputs.items()})))
    same_clips = "located_clip" not in got or bool(np.array_equal(got["located_clip"], expected["located_clip"].numpy()))
    return float(np.abs(got["probabilities"] - expected["probabilities"].numpy()).max()), same_clips


def export(checkpoint: str | Path, out: str | Path | None = None, format: str = "onnx",
           tolerance: float = TOLERANCE) -> Exported:
    """Export the ``dfer train`` checkpoint to ``out`` (default: beside it, ``.onnx``), verified
    against PyTorch, with its model card beside it (see the module docstring)."""
    if format not in FORMATS:
        raise InputError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    checkpoint = Path(checkpoint)
    out = checkpoint.with_suffix(".onnx") if out is None else Path(out)
    check_target(out)
    model, config, classes = load_checkpoint(checkpoint)
    video_model = VideoModel(model, config, config.model.name)
    graph = ExportGraph(model).eval()
    inputs = example_inputs(video_model)
    digest = sha256(checkpoint)
    metadata = describe(video_model, classes, graph, inputs, checkpoint, digest)
    with atomic_path(out) as partial:
        write_onnx(graph, inputs, partial, metadata)
        delta, same_clips = verify(graph, inputs, partial)
        if delta > tolerance or not same_clips:
            raise DatasetError(checkpoint, f"the ONNX graph does not reproduce the model (max |Δ| of the "
                                           f"probabilities {delta:.1e}, tolerance {tolerance:.0e}"
                                           f"{'; another located clip' if not same_clips else ''}); nothing written")
    card = model_card_path(out)
    with atomic_path(card) as partial:
        partial.write_text(card_text(checkpoint, digest, config, classes, out, delta, metadata))
    return Exported(out, card, delta, metadata)


def check_target(out: Path) -> None:
    """Refuse an ``out`` that is no ``.onnx`` name, or that holds a file other than a dfer export."""
    if out.suffix.lower() != ".onnx":
        raise InputError(f"the ONNX file must end in .onnx (dfer predict --model tells models by it), got {out}")
    if out.is_dir():
        raise DatasetError(out, "is a folder; give a file name for the ONNX model")
    if out.exists():
        import onnx

        try:
            props = {prop.key for prop in onnx.load(str(out), load_external_data=False).metadata_props}
        except Exception:  # not an ONNX file at all
            props = set()
        if METADATA_KEY not in props:
            raise DatasetError(out, "exists and is not a dfer export; choose another --out (dfer replaces only "
                                    "its own exports)")


ONNX_SECTION = """## ONNX export
`{onnx}`, sha256 `{onnx_sha256}`: `{checkpoint}` (sha256 `{checkpoint_sha256}`) exported by `dfer export`
(ONNX opset {opset}, any batch size). Inputs: {inputs}; outputs: {outputs}. onnxruntime reproduces
PyTorch's probabilities on random clips to max |Δ| {delta:.1e}. The sampler, transforms and classes are
stored in the file's metadata (`{key}`), so it runs without torch:

```
dfer predict video.mp4 --model {onnx}
```
"""


def card_text(checkpoint: Path, digest: str, config, classes, onnx_file: Path, delta: float, metadata: dict) -> str:
    """The run's MODEL_CARD.md when it records this checkpoint (beside it, or in the run folder
    above ``checkpoints/``), else one made from the checkpoint's config; with an ONNX section."""
    cards = [folder / "MODEL_CARD.md" for folder in (checkpoint.parent, checkpoint.parent.parent)]
    recorded = [card.read_text() for card in cards if card.is_file() and digest in card.read_text()]
    text = recorded[0] if recorded else model_card(config, {}, digest, list(classes))
    inputs = ", ".join(f"`{name}` ({', '.join(map(str, shape))})" for name, shape in metadata["inputs"].items())
    return text.rstrip() + "\n\n" + ONNX_SECTION.format(
        onnx=onnx_file.name, onnx_sha256=sha256(onnx_file), checkpoint=checkpoint.name, checkpoint_sha256=digest,
        opset=OPSET, inputs=inputs,
        outputs=", ".join(f"`{name}`" for name in metadata["outputs"]), delta=delta, key=METADATA_KEY)
