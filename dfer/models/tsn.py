"""Two-stream Temporal Segment Networks (Wang et al., ECCV 2016): SDFE-LV Tables 3 and 5, "Two TSN".

A clip is K segments of L + 1 consecutive frames each: exactly what the ``segments`` sampler gives
(``segments: K, length: L + 1``; TSN uses K = 3 and L = 5). From every segment:

- the **spatial stream** (a 2D ResNet) sees the snippet's middle RGB frame;
- the **temporal stream** (a 2D ResNet whose first convolution takes 2L channels) sees the L
  optical-flow fields between the snippet's consecutive frames, x and y stacked
  (x₁, y₁, x₂, y₂, …), each truncated to ±``flow_bound`` pixels and divided by it.

The segmental consensus averages each stream's embeddings over the K segments (with the linear
classifier below this equals TSN's averaging of segment scores); ``features`` is
[spatial consensus, temporal consensus] and one linear layer classifies it, i.e. the two streams'
scores are summed. Departures from the paper, all because dfer trains from scratch and end to end:
both streams are trained jointly with one loss (TSN trains them apart and fuses scores with
weights 1 : 1.5, which the shared linear layer learns instead); no cross-modality initialisation
or partial batch norm, which only matter when starting from ImageNet weights; optical flow is
OpenCV's Farneback (TSN used TV-L1, which OpenCV keeps in its contrib build), computed inside
``forward`` on the CPU (:mod:`dfer.models.flow`), so a GPU run spends some CPU time per batch on it;
``forward_features`` also takes the flow ready-made, which is how an ONNX export runs TSN.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dfer.errors import InputError
from dfer.models.base import ClipModel
from dfer.models.flow import stacked_flow
from dfer.models.frame2d import backbone_2d, frame_embeddings

#: Backbones of SDFE-LV's "Two TSN (Resnet18/50/101)".
TSN_BACKBONES: tuple[str, ...] = ("resnet18", "resnet50", "resnet101")


def _flow_input_resnet(backbone: str, channels: int) -> tuple[nn.Module, int]:
    """A :func:`backbone_2d` ResNet whose first convolution takes ``channels`` channels."""
    model, dim = backbone_2d(backbone)
    first = model.conv1
    model.conv1 = nn.Conv2d(channels, first.out_channels, first.kernel_size, first.stride, first.padding, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")  # as torchvision's ResNet
    return model, dim


class TSN(ClipModel):
    """Two-stream TSN over clips of ``segments`` × (``flow_length`` + 1) frames (see the module docstring).

    ``video`` is ``(B, 3, T, H, W)``, normalised RGB, with T = segments · (flow_length + 1). The flow
    is computed on a grey version of the clip (the channel mean, stretched to 0–255 per clip; a
    per-clip affine change of intensity, which the flow does not depend on), so any input
    normalisation works. ``feature_dim`` = 2 · D of the backbone.
    """

    def __init__(self, num_classes: int = 7, backbone: str = "resnet18", segments: int = 3, flow_length: int = 5,
                 flow_bound: float = 20.0, dropout: float = 0.8) -> None:
        super().__init__()
        if backbone not in TSN_BACKBONES:
            raise InputError(f"TSN backbone must be one of {', '.join(TSN_BACKBONES)}, not {backbone!r}")
        if segments < 1 or flow_length < 1 or flow_bound <= 0:
            raise InputError(f"TSN needs segments ≥ 1, flow_length ≥ 1 and flow_bound > 0 "
                             f"(got {segments}, {flow_length}, {flow_bound})")
        self.segments, self.flow_length, self.flow_bound = segments, flow_length, flow_bound
        self.spatial, dim = backbone_2d(backbone)
        self.torchvision_arch = backbone
        self.temporal, _ = _flow_input_resnet(backbone, 2 * flow_length)
        self.feature_dim = 2 * dim
        self.init_head(num_classes, dropout)

    @property
    def frames(self) -> int:
        """Frames per clip: segments · (flow_length + 1)."""
        return self.segments * (self.flow_length + 1)

    def optical_flow(self, snippets: Tensor) -> Tensor:
        """``(B, C, K, L + 1, H, W)`` snippets → ``(B, K, 2L, H, W)`` stacked flow, bounded to [−1, 1]
        (:func:`dfer.models.flow.stacked_flow`, on the CPU)."""
        batch, _, segments, length, height, width = snippets.shape
        if snippets.device.type == "meta":  # shape-only runs (dfer.models.zoo.complexity)
            return snippets.new_empty((batch, segments, 2 * (length - 1), height, width))
        flows = stacked_flow(snippets.detach().float().cpu().numpy(), self.flow_bound)
        return torch.from_numpy(flows).to(device=snippets.device, dtype=snippets.dtype)

    def forward_features(self, video: Tensor, scene: Tensor | None = None, flow: Tensor | None = None) -> Tensor:
        """The consensus features; ``flow`` (B, K, 2L, H, W), :meth:`optical_flow` of the clip's
        snippets, is computed here unless given (an ONNX graph takes it as an input)."""
        if video.dim() != 5 or video.shape[2] != self.frames:
            raise InputError(f"TSN with segments={self.segments}, flow_length={self.flow_length} takes clips "
                             f"(B, C, {self.frames}, H, W), got shape {tuple(video.shape)}; sample them with the "
                             f"'segments' sampler (segments: {self.segments}, length: {self.flow_length + 1})")
        batch, channels, _, height, width = video.shape
        snippets = video.reshape(batch, channels, self.segments, self.flow_length + 1, height, width)
        middle = snippets[:, :, :, (self.flow_length + 1) // 2]  # (B, C, K, H, W)
        spatial = frame_embeddings(self.spatial, middle).mean(1)
        flow = self.optical_flow(snippets) if flow is None else flow
        temporal = self.temporal(flow.flatten(0, 1)).reshape(batch, self.segments, -1).mean(1)
        return torch.cat([spatial, temporal], 1)
