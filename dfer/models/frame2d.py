"""Per-frame 2D ConvNets for clips: FERV39k's "2D ConvNet" and "2D ConvNet-LSTM" baselines (Sec. 4.2).

Both apply a torchvision image backbone (random initialisation) to every frame of a clip
``(B, C, T, H, W)`` and differ in how the T frame embeddings are combined: concatenation
(:class:`FrameCNN`) or an LSTM (:class:`FrameLSTM`). Both are :class:`~dfer.models.base.ClipModel` models:
``forward_features`` gives the input of the shared dropout + linear classifier head.
"""

from __future__ import annotations

from torch import Tensor, nn
from torchvision.models import resnet18, resnet50, resnet101
from torchvision.models.vgg import cfgs as vgg_configs
from torchvision.models.vgg import make_layers

from dfer.errors import InputError
from dfer.models.base import ClipModel

#: Names accepted by :func:`backbone_2d`.
BACKBONES: tuple[str, ...] = ("resnet18", "resnet50", "resnet101", "vgg11", "vgg13", "vgg16", "vgg19")
_RESNETS = {"resnet18": resnet18, "resnet50": resnet50, "resnet101": resnet101}
_VGG_CONFIG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def _vgg_features(config: str, batch_norm: bool = True) -> nn.Module:
    """VGG convolutional layers with batch normalisation, global-average-pooled to 512 values.

    The batch-normalised variants (``vgg*_bn``) are used because every FERV39k baseline is trained
    from scratch, which plain VGG does not do reliably; ``batch_norm=False`` gives the original VGG
    layers (torchvision's ``vgg*``). VGG's fc6/fc7 are left out: like the ResNets, the backbone ends
    at a global average pool, and the paper's LSTM sits "after the last average pooling layer".
    Weights are initialised as torchvision initialises VGG.
    """
    layers = make_layers(vgg_configs[config], batch_norm=batch_norm)
    for module in layers.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return nn.Sequential(layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1))


def torchvision_arch_2d(name: str, batch_norm: bool = True) -> str:
    """torchvision's name for the architecture of :func:`backbone_2d` ``(name, batch_norm)``."""
    return f"{name}_bn" if name in _VGG_CONFIG and batch_norm else name


def backbone_2d(name: str, batch_norm: bool = True) -> tuple[nn.Module, int]:
    """A randomly initialised image backbone mapping ``(N, 3, H, W)`` to ``(N, D)`` and its D.

    ``name`` is one of :data:`BACKBONES`. ResNets (D = 512 for resnet18, 2048 for resnet50/101) are
    torchvision's with the final ``fc`` removed; VGGs (D = 512) are described in
    :func:`_vgg_features` (``batch_norm=False``: without batch normalisation, VGGs only). Any input
    of at least 32 × 32 pixels, square or not, works.
    """
    if name in _RESNETS and not batch_norm:
        raise InputError(f"batch_norm=False is only available for VGG backbones, not {name!r}")
    if name in _RESNETS:
        model = _RESNETS[name](weights=None)
        dim = model.fc.in_features
        model.fc = nn.Identity()
        return model, dim
    if name in _VGG_CONFIG:
        return _vgg_features(_VGG_CONFIG[name], batch_norm), 512
    raise InputError(f"unknown 2D backbone {name!r}; choose one of {', '.join(BACKBONES)}")


def frame_embeddings(backbone: nn.Module, video: Tensor) -> Tensor:
    """``backbone`` applied to every frame of ``video`` (B, C, T, H, W) → (B, T, D)."""
    if video.dim() != 5:
        raise InputError(f"expected a video batch (B, C, T, H, W), got shape {tuple(video.shape)}")
    batch, channels, frames, height, width = video.shape
    images = video.transpose(1, 2).reshape(batch * frames, channels, height, width)
    return backbone(images).reshape(batch, frames, -1)


class FrameCNN(ClipModel):
    """FERV39k "2D ConvNet": per-frame embeddings concatenated (T·D) and classified by one linear layer.

    ``features`` is the concatenation itself (``feature_dim = num_frames · D``); dropout is applied
    only on the way into the classifier. Clips must have exactly ``num_frames`` frames.
    ``batch_norm=False`` (VGG backbones only) drops the backbone's batch normalisation.
    """

    def __init__(self, num_classes: int = 7, backbone: str = "resnet18", num_frames: int = 8,
                 dropout: float = 0.5, batch_norm: bool = True) -> None:
        super().__init__()
        self.backbone, dim = backbone_2d(backbone, batch_norm)
        self.torchvision_arch = torchvision_arch_2d(backbone, batch_norm)
        self.num_frames = num_frames
        self.feature_dim = num_frames * dim
        self.init_head(num_classes, dropout)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        if video.dim() == 5 and video.shape[2] != self.num_frames:
            raise InputError(f"FrameCNN was built for num_frames={self.num_frames} but got a clip of "
                             f"{video.shape[2]} frames (shape {tuple(video.shape)}); build it with "
                             f"num_frames={video.shape[2]} or sample {self.num_frames} frames")
        return frame_embeddings(self.backbone, video).flatten(1)


class FrameLSTM(ClipModel):
    """FERV39k "2D ConvNet-LSTM": per-frame embeddings → LSTM → last hidden state → BatchNorm1d → linear.

    One LSTM layer with ``hidden`` units (1024 in the paper) reads the frames in order; its final
    hidden state, batch-normalised, is ``features`` (``feature_dim = hidden``). Any number of
    frames works.
    """

    def __init__(self, num_classes: int = 7, backbone: str = "resnet18", hidden: int = 1024,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.backbone, dim = backbone_2d(backbone)
        self.torchvision_arch = torchvision_arch_2d(backbone)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.norm = nn.BatchNorm1d(hidden)
        self.feature_dim = hidden
        self.init_head(num_classes, dropout)

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        _, (last_hidden, _) = self.lstm(frame_embeddings(self.backbone, video))
        return self.norm(last_hidden[-1])
