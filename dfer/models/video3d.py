"""3D ConvNets for clips ``(B, C, T, H, W)``: the 3D baselines of DFEW (Table 4) and FERV39k (Table 2).

The papers feed 16 frames of 112 × 112 (DFEW) or 8 frames (FERV39k). Every network here ends in an
adaptive pooling layer, so it also runs on other clip sizes, non-square frames (FERV39k scenes are
112 × 168) and small test clips (8 frames of 32 × 32 or smaller). Every model is a
:class:`~dfer.models.base.ClipModel`: ``forward_features`` gives the input of the shared dropout +
linear classifier head. All weights are randomly initialised.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn
from torchvision.models.video import r2plus1d_18, r3d_18
from torchvision.models.video.resnet import BasicBlock, Conv3DSimple, VideoResNet

from dfer.errors import InputError
from dfer.models.base import ClipModel

Size3 = int | tuple[int, int, int]


def conv_bn_relu(in_channels: int, out_channels: int, kernel: Size3, stride: Size3 = 1,
                 padding: Size3 = 0, relu: bool = True) -> nn.Sequential:
    """A bias-free Conv3d followed by BatchNorm3d and (unless ``relu=False``) ReLU."""
    layers = [nn.Conv3d(in_channels, out_channels, kernel, stride, padding, bias=False),
              nn.BatchNorm3d(out_channels)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _init_weights(model: nn.Module) -> None:
    """He initialisation for convolutions, unit batch norms, N(0, 0.01) for linear layers."""
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm3d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)


class AdaptiveMaxPool3d(nn.AdaptiveMaxPool3d):
    """:class:`torch.nn.AdaptiveMaxPool3d` that also exports to ONNX when the output size does not
    divide the input's (the exporter refuses those). While exporting, each axis is max-pooled over
    the same windows PyTorch uses, [⌊i·n/m⌋, ⌈(i+1)·n/m⌉) for output i of m from n, by slicing; a
    max over a box is the max over its axes in turn, so the numbers are the same."""

    def forward(self, x: Tensor) -> Tensor:
        if not torch.onnx.is_in_onnx_export():
            return super().forward(x)
        for axis, size in zip(range(x.dim() - 3, x.dim()), self.output_size):
            length = x.shape[axis]
            size = length if size is None else size
            # sizes are traced: the ceiling avoids negative floor division, which ONNX truncates
            bounds = [(i * length // size, ((i + 1) * length + size - 1) // size) for i in range(size)]
            x = torch.stack([x.narrow(axis, start, end - start).amax(dim=axis) for start, end in bounds], dim=axis)
        return x


class C3D(ClipModel):
    """C3D (Tran et al. 2015): eight 3×3×3 convolutions, five max pools, fc6/fc7 of 4096 units.

    Pool1 is 1×2×2, the others 2×2×2; pool5 pads height and width by one, as in the original, so a
    16 × 112 × 112 clip ends in a 512 × 1 × 4 × 4 map (8192 values) feeding fc6. An adaptive max
    pool to 1 × 4 × 4 after pool5 — the identity at that standard size — keeps fc6 at 8192 inputs
    for any other clip size (and exports to ONNX at any size, :class:`AdaptiveMaxPool3d`), and the
    pools round up so that short clips (T ≥ 1) still run.
    At 16 × 112 × 112 the layers and parameter count (78.0 M with 7 classes) are the classic
    ones; 79.99 M, the figure quoted by CEFLNet, is the same network with Sports-1M's 487 classes.
    No batch normalisation, as in the paper. ``features`` is the fc7 output (4096 values).
    """

    feature_dim = 4096

    def __init__(self, num_classes: int = 7, dropout: float = 0.5) -> None:
        super().__init__()

        def conv(in_channels: int, out_channels: int) -> list[nn.Module]:
            return [nn.Conv3d(in_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True)]

        def pool(kernel: Size3) -> nn.MaxPool3d:
            return nn.MaxPool3d(kernel, kernel, ceil_mode=True)

        self.convs = nn.Sequential(
            *conv(3, 64), pool((1, 2, 2)),
            *conv(64, 128), pool(2),
            *conv(128, 256), *conv(256, 256), pool(2),
            *conv(256, 512), *conv(512, 512), pool(2),
            *conv(512, 512), *conv(512, 512),
            nn.MaxPool3d(2, 2, padding=(0, 1, 1), ceil_mode=True),
            AdaptiveMaxPool3d((1, 4, 4)),
            nn.Flatten(1),
        )
        self.fc = nn.Sequential(
            nn.Linear(512 * 4 * 4, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),  # fc6
            nn.Linear(4096, 4096), nn.ReLU(inplace=True),  # fc7
        )
        self.init_head(num_classes, dropout)  # fc8
        _init_weights(self)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        return self.fc(self.convs(video))


#: Bottleneck blocks per stage of P3D ResNets, by the depth of the 2D ResNet they inflate.
P3D_LAYERS: dict[int, tuple[int, int, int, int]] = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class P3DBlock(nn.Module):
    """Pseudo-3D bottleneck: 1×1×1 reduce, a spatial S (1×3×3) and temporal T (3×1×1) pair, 1×1×1 expand.

    ``style`` arranges S and T (Qiu et al. 2017, Fig. 2): "A" cascades them (T·S), "B" runs them
    in parallel (S + T), "C" adds the cascade to S (S + T·S). Every convolution is followed by
    batch norm and ReLU, except the expansion, whose batch-normalised output is added to the
    shortcut (a strided 1×1×1 convolution where the shape changes) before the final ReLU.
    ``stride`` downsamples time, height and width in the reducing 1×1×1 convolution.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, style: str, stride: int = 1) -> None:
        super().__init__()
        if style not in ("A", "B", "C"):
            raise InputError(f"P3D block style must be 'A', 'B' or 'C', not {style!r}")
        out_channels = planes * self.expansion
        self.style = style
        self.reduce = conv_bn_relu(in_channels, planes, 1, stride)
        self.spatial = conv_bn_relu(planes, planes, (1, 3, 3), padding=(0, 1, 1))
        self.temporal = conv_bn_relu(planes, planes, (3, 1, 1), padding=(1, 0, 0))
        self.expand = conv_bn_relu(planes, out_channels, 1, relu=False)
        self.shortcut = (conv_bn_relu(in_channels, out_channels, 1, stride, relu=False)
                         if stride != 1 or in_channels != out_channels else nn.Identity())
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        y = self.reduce(x)
        if self.style == "A":
            y = self.temporal(self.spatial(y))
        elif self.style == "B":
            y = self.spatial(y) + self.temporal(y)
        else:
            s = self.spatial(y)
            y = s + self.temporal(s)
        return self.relu(self.expand(y) + self.shortcut(x))


class P3D(ClipModel):
    """Pseudo-3D ResNet (Qiu et al. 2017): a bottleneck ResNet whose 3×3 convolutions become P3D blocks.

    Blocks cycle A, B, C through the whole network, as in the paper. ``depth`` picks the stage
    layout of ResNet-50/101/152 (:data:`P3D_LAYERS`): 50 (default) is the base of the paper's
    ablations, 152 that of its final 199-layer P3D ResNet; DFEW and FERV39k do not say which.
    Simplifications against the released P3D-199: the stem is a 1×7×7 convolution (stride 1×2×2)
    and a 1×3×3 max pool, the three later stages each halve time, height and width in their first
    block (no separate temporal pools), and all four stages are pseudo-3D (the release ends with 2D
    blocks). ``features`` is the global average of the last stage (2048 values).
    """

    feature_dim = 2048

    def __init__(self, num_classes: int = 7, depth: int = 50, dropout: float = 0.5) -> None:
        super().__init__()
        if depth not in P3D_LAYERS:
            raise InputError(f"P3D depth must be one of {sorted(P3D_LAYERS)}, not {depth}")
        self.stem = nn.Sequential(
            conv_bn_relu(3, 64, (1, 7, 7), (1, 2, 2), (0, 3, 3)),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
        )
        blocks: list[nn.Module] = []
        in_channels = 64
        for stage, (planes, count) in enumerate(zip((64, 128, 256, 512), P3D_LAYERS[depth])):
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(P3DBlock(in_channels, planes, "ABC"[len(blocks) % 3], stride))
                in_channels = planes * P3DBlock.expansion
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(1))
        self.init_head(num_classes, dropout)
        _init_weights(self)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        return self.pool(self.blocks(self.stem(video)))


#: Inception-v1 modules as inflated by I3D: name → widths of (1×1; 1×1 → 3×3; 1×1 → 3×3; pool → 1×1).
INCEPTION_V1: dict[str, tuple[int, int, int, int, int, int]] = {
    "3b": (64, 96, 128, 16, 32, 32),
    "3c": (128, 128, 192, 32, 96, 64),
    "4b": (192, 96, 208, 16, 48, 64),
    "4c": (160, 112, 224, 24, 64, 64),
    "4d": (128, 128, 256, 24, 64, 64),
    "4e": (112, 144, 288, 32, 64, 64),
    "4f": (256, 160, 320, 32, 128, 128),
    "5b": (256, 160, 320, 32, 128, 128),
    "5c": (384, 192, 384, 48, 128, 128),
}


class InceptionModule(nn.Module):
    """An inflated Inception module: four branches concatenated along channels.

    Branches: 1×1×1; 1×1×1 → 3×3×3; 1×1×1 → 3×3×3 (Inception-v1's "5×5" branch, 3×3×3 in I3D);
    3×3×3 max pool (stride 1) → 1×1×1. Each convolution is followed by batch norm and ReLU.
    """

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int, int]) -> None:
        super().__init__()
        single, reduce3, out3, reduce5, out5, pooled = widths
        self.branches = nn.ModuleList([
            conv_bn_relu(in_channels, single, 1),
            nn.Sequential(conv_bn_relu(in_channels, reduce3, 1), conv_bn_relu(reduce3, out3, 3, padding=1)),
            nn.Sequential(conv_bn_relu(in_channels, reduce5, 1), conv_bn_relu(reduce5, out5, 3, padding=1)),
            nn.Sequential(nn.MaxPool3d(3, 1, 1), conv_bn_relu(in_channels, pooled, 1)),
        ])
        self.out_channels = single + out3 + out5 + pooled

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([branch(x) for branch in self.branches], 1)


class I3D(ClipModel):
    """I3D (Carreira & Zisserman 2017): Inception-v1 inflated to 3D, RGB stream.

    Stem: 7×7×7 convolution stride 2, 1×3×3 max pool stride 1×2×2, 1×1×1 and 3×3×3 convolutions,
    1×3×3 max pool; then modules 3b–3c, a 3×3×3 max pool stride 2, 4b–4f, a 2×2×2 max pool
    stride 2, 5b–5c (:data:`INCEPTION_V1`). Time is thus downsampled 8× (conv1, pool 4a, pool 5a)
    as in I3D. TensorFlow's "SAME" padding becomes symmetric padding with pools rounding up (the
    same output sizes). I3D's fixed 2×7×7 average pool and 1×1×1 logits convolution become a
    global average pool and a linear layer. ``features`` is the pooled 1024 values.
    """

    feature_dim = 1024

    def __init__(self, num_classes: int = 7, dropout: float = 0.5) -> None:
        super().__init__()
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv_1a=conv_bn_relu(3, 64, 7, 2, 3),
            pool_2a=nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            conv_2b=conv_bn_relu(64, 64, 1),
            conv_2c=conv_bn_relu(64, 192, 3, padding=1),
            pool_3a=nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
        )
        channels = 192
        for name, widths in INCEPTION_V1.items():
            if name == "4b":
                layers["pool_4a"] = nn.MaxPool3d(3, 2, 1)
            elif name == "5b":
                layers["pool_5a"] = nn.MaxPool3d(2, 2, ceil_mode=True)
            layers[f"mixed_{name}"] = module = InceptionModule(channels, widths)
            channels = module.out_channels
        layers["pool"] = nn.AdaptiveAvgPool3d(1)
        layers["flatten"] = nn.Flatten(1)
        self.features = nn.Sequential(layers)
        self.init_head(num_classes, dropout)
        _init_weights(self)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        return self.features(video)


class VideoResNetClassifier(ClipModel):
    """A torchvision :class:`VideoResNet` body whose ``fc`` is replaced by dropout and a linear classifier.

    ``features`` is the body's global average pool (512 values for the 18-layer networks).
    """

    feature_dim = 512

    def __init__(self, body: VideoResNet, num_classes: int, dropout: float) -> None:
        super().__init__()
        body.fc = nn.Identity()
        self.body = body
        self.init_head(num_classes, dropout)
        nn.init.normal_(self.classifier.weight, 0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        return self.body(video)


class R3D18(VideoResNetClassifier):
    """R3D-18 (Tran et al. 2018, "A closer look"): torchvision's ``r3d_18``.

    DFEW Table 4 "R3D18" and FERV39k Table 2 "3D-R18". Without dropout (``dropout=0``) it has
    exactly the parameters of ``torchvision.models.video.r3d_18(num_classes=num_classes)``.
    """

    torchvision_arch = "r3d_18"

    def __init__(self, num_classes: int = 7, dropout: float = 0.0) -> None:
        super().__init__(r3d_18(weights=None), num_classes, dropout)


class R2Plus1D18(VideoResNetClassifier):
    """R(2+1)D-18 (Tran et al. 2018): torchvision's ``r2plus1d_18``."""

    torchvision_arch = "r2plus1d_18"

    def __init__(self, num_classes: int = 7, dropout: float = 0.0) -> None:
        super().__init__(r2plus1d_18(weights=None), num_classes, dropout)


class HaraStem(nn.Sequential):
    """Stem of Hara et al.'s 3D ResNets: 7×7×7 convolution stride 1×2×2, 3×3×3 max pool stride 2."""

    def __init__(self) -> None:
        super().__init__(
            nn.Conv3d(3, 64, 7, stride=(1, 2, 2), padding=3, bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(3, 2, 1),
        )


class ResNet3D18(VideoResNetClassifier):
    """3D ResNet-18 of Hara et al. (2018), DFEW Table 4 "3D Resnet18".

    torchvision's VideoResNet with Hara's stem (:class:`HaraStem`), 3×3×3 basic blocks [2, 2, 2, 2]
    and type-B shortcuts (strided 1×1×1 convolution + batch norm where the shape changes). It
    differs from :class:`R3D18` only in the stem: a 7×7×7 kernel, and a max pool that halves time,
    height and width once more.
    """

    def __init__(self, num_classes: int = 7, dropout: float = 0.0) -> None:
        super().__init__(VideoResNet(BasicBlock, [Conv3DSimple] * 4, [2, 2, 2, 2], HaraStem), num_classes, dropout)
