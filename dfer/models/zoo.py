"""The model table: name → builder, family, the paper's input and the paper row it reproduces.

Every model follows one contract (:class:`dfer.models.base.ClipModel`), so the training engine
treats them alike: ``forward_features(video, scene=None)`` takes ``video`` ``(B, C, T, H, W)``
(and, for two-stream models, ``scene`` of the same layout) and gives ``(B, feature_dim)``, the
input of the shared classifier head; ``forward`` returns ``{"logits": (B, num_classes),
"features": (B, feature_dim)}`` (CEFLNet adds its clip scores and classifies class-wise, see
:mod:`dfer.models.ceflnet`). Builders take ``num_classes`` first, then keyword options.

``paper_input`` is one sample as the cited paper fed it: FERV39k rows (2D, 2D-LSTM and two-stream
models) use 8 frames of 112 × 112 faces and 112 × 168 scenes; the 3D rows quote DFEW's 16
TIM-interpolated frames of 112 × 112. Training configurations set the real clip length.

Other models can be added with :func:`register`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dfer.errors import InputError
from dfer.models.ceflnet import CEFLNET_INPUT, CEFLNet
from dfer.models.frame2d import FrameCNN, FrameLSTM
from dfer.models.tsn import TSN, TSN_BACKBONES
from dfer.models.two_stream import TwoStream
from dfer.models.video3d import C3D, I3D, P3D, R3D18, R2Plus1D18, ResNet3D18

#: Families of the models in the table (registered models may add others).
FAMILIES: tuple[str, ...] = ("2d", "2d-lstm", "3d", "two-stream", "tsn", "ceflnet")


@dataclass(frozen=True)
class ModelSpec:
    """One named model: its family, builder ``(num_classes, **options) → nn.Module``, paper input
    (input name → shape of one sample, without the batch) and a one-line description citing the
    paper row. ``stream`` names the single-stream model of both streams of a two-stream model."""

    name: str
    family: str
    builder: Callable[..., nn.Module]
    paper_input: Mapping[str, tuple[int, ...]]
    description: str
    stream: str | None = None


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS`; a name can be registered once."""
    if spec.name in MODELS:
        raise InputError(f"model {spec.name!r} is already registered")
    MODELS[spec.name] = spec
    return spec


def two_stream(kind: str, num_classes: int = 7, dropout: float = 0.5, **options) -> TwoStream:
    """A :class:`~dfer.models.two_stream.TwoStream` whose face and scene streams are both the zoo's
    single-stream ``kind``.

    ``dropout`` is the fusion classifier's. ``options`` are ``kind``'s other options (e.g.
    ``hidden`` of an LSTM model, ``num_frames`` of a 2D model) and apply to both streams, which
    keep their default dropout (it matters only inside C3D, between fc6 and fc7).
    """
    if kind not in MODELS or MODELS[kind].family in ("two-stream", "ceflnet"):
        singles = [name for name, spec in MODELS.items() if spec.family not in ("two-stream", "ceflnet")]
        raise InputError(f"two-stream kind must be a single-stream model name ({', '.join(singles)}), not {kind!r}")
    face = build_model(kind, num_classes, **options)
    scene = build_model(kind, num_classes, **options)
    return TwoStream(face, scene, num_classes, dropout)


FACE_8 = (3, 8, 112, 112)
FACE_16 = (3, 16, 112, 112)
FACE_TSN = (3, 18, 112, 112)  # 3 segments × (5 flow fields + 1) frames
SCENE_8 = (3, 8, 112, 168)


def _register_paper_models() -> None:
    """The baselines of FERV39k Table 2, DFEW Table 4 and SDFE-LV Table 3's feature extractors, plus
    a few same-family companions."""
    frame_rows = {  # backbone → (2D row, 2D-LSTM row)
        "resnet18": ("FERV39k Table 2 'R18'",
                     "FERV39k Table 2 'R18-LSTM', DFEW Table 4 'Resnet18+LSTM', SDFE-LV Table 3 'Resnet18-LSTM'"),
        "resnet50": ("FERV39k Table 2 'R50'", "FERV39k Table 2 'R50-LSTM', SDFE-LV Table 3 'Resnet50-LSTM'"),
        "resnet101": ("no paper row", "SDFE-LV Table 3 'Resnet101-LSTM'"),
        "vgg11": ("no paper row", "DFEW Table 4 'VGG11+LSTM'"),
        "vgg13": ("FERV39k Table 2 'VGG13'", "FERV39k Table 2 'VGG13-LSTM', SDFE-LV Table 3 'VGG13-LSTM'"),
        "vgg16": ("FERV39k Table 2 'VGG16'", "FERV39k Table 2 'VGG16-LSTM', SDFE-LV Table 3 'VGG16-LSTM'"),
        "vgg19": ("no paper row", "SDFE-LV Table 3 'VGG19-LSTM'"),
    }
    for backbone, (row, lstm_row) in frame_rows.items():
        title = backbone.replace("resnet", "ResNet-").replace("vgg", "VGG-")
        register(ModelSpec(
            backbone, "2d", partial(FrameCNN, backbone=backbone), {"video": FACE_8},
            f"{title} per frame, frame embeddings concatenated, linear classifier; {row}"))
        register(ModelSpec(
            f"{backbone}_lstm", "2d-lstm", partial(FrameLSTM, backbone=backbone), {"video": FACE_8},
            f"{title} per frame → LSTM(1024) → batch norm → linear; {lstm_row}"))

    for spec in (
        ModelSpec("c3d", "3d", C3D, {"video": FACE_16},
                  "C3D (Tran et al. 2015); DFEW Table 4 'C3D', FERV39k Table 2 'C3D'"),
        ModelSpec("p3d", "3d", P3D, {"video": FACE_16},
                  "Pseudo-3D ResNet-50 (Qiu et al. 2017); DFEW Table 4 'P3D', FERV39k supplementary 'P3D'"),
        ModelSpec("i3d", "3d", I3D, {"video": FACE_16},
                  "I3D RGB, inflated Inception-v1 (Carreira & Zisserman 2017); DFEW 'I3D-RGB', FERV39k 'I3D'"),
        ModelSpec("r3d_18", "3d", R3D18, {"video": FACE_16},
                  "R3D-18 (Tran et al. 2018), torchvision; DFEW Table 4 'R3D18', FERV39k Table 2 '3D-R18'"),
        ModelSpec("resnet3d_18", "3d", ResNet3D18, {"video": FACE_16},
                  "3D ResNet-18 (Hara et al. 2018); DFEW Table 4 '3D Resnet18'"),
        ModelSpec("r2plus1d_18", "3d", R2Plus1D18, {"video": FACE_16},
                  "R(2+1)D-18 (Tran et al. 2018), torchvision; no paper row"),
    ):
        register(spec)

    two_stream_rows = {  # single-stream model → paper rows
        "c3d": "FERV39k Table 2 'Two C3D', SDFE-LV Table 3 'Two C3D'", "i3d": "FERV39k Table 2 'Two I3D'",
        "r3d_18": "FERV39k Table 2 'Two 3D-R18'", "resnet18_lstm": "FERV39k Table 2 'Two R18-LSTM'",
        "vgg13_lstm": "FERV39k Table 2 'Two VGG13-LSTM'", "resnet50_lstm": "SDFE-LV Table 3 'Two Resnet50-LSTM'",
        "vgg19_lstm": "SDFE-LV Table 3 'Two VGG19-LSTM'", "resnet18": None, "resnet50": None, "vgg13": None,
    }
    for stream, row in two_stream_rows.items():
        register(ModelSpec(
            f"two_{stream}", "two-stream", partial(two_stream, stream), {"video": FACE_8, "scene": SCENE_8},
            f"face + scene {stream} streams, features concatenated, linear classifier; {row or 'no paper row'}",
            stream=stream))

    for backbone in TSN_BACKBONES:
        title = backbone.replace("resnet", "ResNet-")
        register(ModelSpec(
            f"tsn_{backbone}", "tsn", partial(TSN, backbone=backbone), {"video": FACE_TSN},
            f"two-stream TSN (Wang et al. 2016): {title} on each segment's RGB frame + {title} on 5 stacked "
            f"optical-flow fields, 3 segments, average consensus; SDFE-LV Tables 3/5 'Two TSN "
            f"({backbone.capitalize()})'"))


    register(ModelSpec(
        "ceflnet", "ceflnet", CEFLNet, {"video": CEFLNET_INPUT},
        "CEFLNet (Liu et al., Information Sciences 2022): ResNet-18 frames, self-attention + local-global "
        "relation clip encoder, emotional intensity activation over 7 clips × 5 frames; reported 12.83 M / 63.8 G. "
        "Built randomly initialised; configs/ceflnet start its ResNet-18 from ImageNet (model.pretrained: "
        "torchvision:IMAGENET1K_V1), as the paper's 'pre-trained ResNet-18', and train with Eq. 11's softmax "
        "binary cross-entropy (loss.kind: softmax_bce)"))


_register_paper_models()


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` called ``name``; an unknown name raises ValueError with close matches."""
    if name not in MODELS:
        close = difflib.get_close_matches(name, MODELS, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InputError(f"unknown model {name!r}.{hint} Known models: {', '.join(MODELS)}")
    return MODELS[name]


def model_options(name: str) -> dict[str, object]:
    """The keyword options :func:`build_model` accepts for ``name``, with their defaults.

    A two-stream model takes its stream's options plus its own (its ``dropout`` is the fusion
    layer's).
    """
    spec = get_spec(name)
    fixed = getattr(spec.builder, "keywords", {})  # what a partial fixes, e.g. the backbone of "vgg13"
    own = {
        option: parameter.default
        for option, parameter in inspect.signature(spec.builder).parameters.items()
        if option != "num_classes" and option not in fixed
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }
    return {**model_options(spec.stream), **own} if spec.stream is not None else own


def build_model(name: str, num_classes: int = 7, **options) -> nn.Module:
    """The model called ``name`` (see :data:`MODELS`) with ``num_classes`` outputs, randomly initialised.

    Unknown names and options raise ValueError naming the valid ones.
    """
    valid = model_options(name)
    unknown = [option for option in options if option not in valid]
    if unknown:
        raise InputError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; valid options: "
                         f"{', '.join(f'{key}={value!r}' for key, value in valid.items()) or 'none'}")
    return get_spec(name).builder(num_classes=num_classes, **options)


def complexity(name: str, input: Mapping[str, Sequence[int]] | None = None, **options) -> dict:
    """Trainable parameters and multiply-accumulates of one forward pass of one sample.

    ``input`` maps forward arguments to sample shapes without the batch (default: the model's
    ``paper_input``); ``options`` go to :func:`build_model`. ``torchvision_weights`` lists the
    pretrained weights torchvision offers for the model's backbone (:func:`torchvision_weights`). MACs are FLOPs counted by
    :class:`torch.utils.flop_counter.FlopCounterMode` divided by 2: convolutions and matrix
    products only (not batch norm, activations, pooling or bias additions). The model runs in
    eval mode on the meta device, which computes shapes only: the counts equal those of a CPU run,
    except that LSTMs are counted here, while on CPU PyTorch's fused LSTM kernel is invisible to
    the counter.
    """
    shapes = {key: tuple(shape) for key, shape in (get_spec(name).paper_input if input is None else input).items()}
    with torch.device("meta"):
        model = build_model(name, **options).eval()
        inputs = {key: torch.empty(1, *shape) for key, shape in shapes.items()}
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(**inputs)
    params = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
    return {"name": name, "params": params, "macs": counter.get_total_flops() // 2, "input": shapes,
            "torchvision_weights": torchvision_weights(model)}


def torchvision_weights(model: nn.Module) -> list[str]:
    """``torchvision:<WEIGHTS>`` values of ``model.pretrained`` that fit ``model``'s backbone."""
    from torchvision.models import get_model_weights

    arch = getattr(model, "torchvision_arch", None)
    return [] if arch is None else [f"torchvision:{weights.name}" for weights in get_model_weights(arch)]
