"""CEFLNet: clip-aware emotion-rich feature learning (Liu et al., Information Sciences 2022, §3).

A video of ``clips × frames_per_clip`` face frames goes through

1. a ResNet-18 per frame (global-average-pooled, d = 512 features f_k);
2. the clip-based feature encoder (CFE, §3.2): self-attention learning over the frames of each clip
   (Eq. 1), then local-global relation learning, which weighs every frame against the pooled clip
   and aggregates the clip into one feature R_i (Eqs. 2–3);
3. the emotional intensity activation network (EIAN, §3.3): a 1-D convolution over the clip
   sequence V^f = (R_1 … R_n) (Eq. 4) gives, for every class, softmax scores over the clips
   A (Eq. 5); the activation map M_c = A_c · V^f (Eq. 7) is max-pooled over the clips (Eq. 8) and
   classified by a fully connected layer (Eq. 9).

Where the paper leaves a choice open (documented at each place): the clip summary f̂′ of Eq. 2 is a
max over frames; R_i has ``clip_dim`` = 1024 dimensions; the convolution of Eq. 5 has kernel size 1
and no bias; and since M_c exists per class, Eqs. 8–9 are applied class-wise — the logit of class c
is computed from class c's own pooled representation V̂^f_c, so every class attends to its own clips
(the weakly supervised localisation of §3.3) and no label is needed in the forward pass.

Eq. 7, M_c = A_{y^c} · V^f with "· the dot product", reads two ways. The default (``pooling="max"``)
scales every clip feature by its score and max-pools over the clips (Eq. 8's "maxpool"); the other
(``pooling="weighted_sum"``) takes the dot product over the clips, V̂^f_c = Σ_i A_{c,i} R_i, a
vector already, which Eq. 8's max-pool leaves as it is.

The paper's ResNet-18 is "pre-trained" (§3.2) without saying on what; the CEFLNet configs start it
from torchvision's ImageNet weights (``model.pretrained: torchvision:IMAGENET1K_V1``), the model
itself is built randomly initialised. The paper trains with the binary cross-entropy of Eq. 11 over
the softmax output (``loss.kind: softmax_bce``).

Complexity at the paper's input (7 × 5 frames, 224², batch 1, ``num_classes=7``): 12,503,624
parameters (paper: 12.83 M) and 63.51 G MACs counted by ``torch.utils.flop_counter`` (paper: 63.80 G
with ptflops).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import resnet18

from dfer.errors import InputError
from dfer.models.base import ClipModel

#: The paper's input (C, T, H, W): 7 clips × 5 frames of 224² faces, sub-clips back to back along T.
CEFLNET_INPUT: tuple[int, int, int, int] = (3, 35, 224, 224)
#: Readings of Eqs. 7–8 (see the module docstring).
POOLINGS: tuple[str, ...] = ("max", "weighted_sum")

class SelfAttentionLearning(nn.Module):
    """Self-attention over the K frames of a clip, Eq. 1: f′ = softmax(I_Q I_Kᵀ / √d) I_V.

    I_Q = W^Q I, I_K = W^K I, I_V = W^V I are bias-free d × d projections of the clip's frame
    features I (K × d), as written in the paper (one head, no output projection, no residual).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)

    def forward(self, frames: Tensor) -> Tensor:
        """(N, K, d) frame features → (N, K, d) attended features f′."""
        scores = self.query(frames) @ self.key(frames).transpose(1, 2) / math.sqrt(frames.shape[-1])
        return scores.softmax(dim=-1) @ self.value(frames)


class LocalGlobalRelationLearning(nn.Module):
    """Aggregates a clip's attended frames into one clip feature, Eqs. 2–3.

    w_k = σ([f̂′ : f′_k]ᵀ q⁰) relates each frame to the clip summary f̂′ (the paper's unspecified
    "pooling operation", taken here as a max over the frames), and
    R_i = (Σ_k w_k f′_k / Σ_k w_k) q¹. q⁰ and q¹ are fully connected layers (with bias).
    The normalised weights w_k / Σ w_k are computed as softmax(log σ(·)) — the same numbers,
    without 0/0 when every gate saturates.
    """

    def __init__(self, dim: int, clip_dim: int) -> None:
        super().__init__()
        self.relation = nn.Linear(2 * dim, 1)  # q⁰
        self.projection = nn.Linear(dim, clip_dim)  # q¹

    def forward(self, attended: Tensor) -> Tensor:
        """(N, K, d) attended frame features f′ → (N, clip_dim) clip features R."""
        summary = attended.amax(dim=1, keepdim=True).expand_as(attended)  # f̂′ for every frame
        gate_logits = self.relation(torch.cat([summary, attended], dim=-1))  # (N, K, 1)
        weights = F.logsigmoid(gate_logits).softmax(dim=1)  # w_k / Σ w_k
        return self.projection((weights * attended).sum(dim=1))


class ClipFeatureEncoder(nn.Module):
    """CFE (§3.2): self-attention learning then local-global relation learning, per clip."""

    def __init__(self, dim: int, clip_dim: int) -> None:
        super().__init__()
        self.self_attention = SelfAttentionLearning(dim)
        self.relation = LocalGlobalRelationLearning(dim, clip_dim)

    def forward(self, frames: Tensor) -> Tensor:
        """(N, K, d) frame features of N clips → (N, clip_dim) clip features."""
        return self.relation(self.self_attention(frames))


class EmotionalIntensityActivation(nn.Module):
    """EIAN (§3.3): per-class clip scores, activation maps and class-wise classification.

    A_c = softmax over clips of (Wᵀ V^f)_c (Eq. 5), Wᵀ a 1-D convolution over the clip sequence with
    kernel size 1 and no bias (the paper calls it both a convolution and "a fully-connected layer";
    a per-class bias would cancel in the softmax over clips). M_c = A_c · V^f scales every clip's
    feature by its score (Eq. 7); V̂^f_c = max over clips of M_c (Eq. 8) — or, with
    ``pooling="weighted_sum"``, their sum Σ_i A_{c,i} R_i; the class-c logit is
    Z_c = V̂^f_c q²_c + b_c (Eq. 9 applied to class c's own representation).
    """

    def __init__(self, clip_dim: int, num_classes: int, pooling: str = "max") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise InputError(f"CEFLNet pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")
        self.pooling = pooling
        self.attention = nn.Conv1d(clip_dim, num_classes, kernel_size=1, bias=False)  # Wᵀ
        self.classifier = nn.Linear(clip_dim, num_classes)  # q²

    def forward(self, clip_features: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(B, n, D) clip sequence V^f → scores A (B, n, classes), activation map M
        (B, n, classes, D), pooled representations V̂^f (B, classes, D) and logits (B, classes)."""
        scores = self.attention(clip_features.transpose(1, 2)).softmax(dim=-1).transpose(1, 2)
        activation_map = scores[..., None] * clip_features[:, :, None, :]
        pooled = activation_map.amax(dim=1) if self.pooling == "max" else activation_map.sum(dim=1)
        logits = torch.einsum("bcd,cd->bc", pooled, self.classifier.weight) + self.classifier.bias
        return scores, activation_map, pooled, logits


class CEFLNet(ClipModel):
    """Clip-aware emotion-rich feature learning network (Liu et al., Information Sciences 2022).

    Args:
        num_classes: expression classes.
        clips: sub-clips per video n (paper: 7).
        frames_per_clip: frames per sub-clip K (paper: 5).
        clip_dim: size of the clip features R_i (Eq. 3), which the paper does not give; 1024 puts
            the parameter count within 3% of the reported 12.83 M.
        pooling: "max" (per-clip scaling, then max over clips) or "weighted_sum" (Σ over clips of
            the scaled features), the two readings of Eqs. 7–8.

    ``forward(video)`` takes ``(B, 3, clips * frames_per_clip, H, W)`` with the sub-clips back to
    back along T (clip i holds frames i·K … i·K + K − 1) and returns a dict:

    - ``logits`` (B, num_classes): Eq. 9 before the softmax;
    - ``features`` (B, clip_dim): the emotion-rich representation V̂^f (Eq. 8) of the predicted
      class — the vector whose fully connected output is the winning logit;
    - ``clip_scores`` (B, clips, num_classes): A, for every class a softmax over the clips (Eq. 5);
    - ``located_clip`` (B,): P_e = argmax A_{y^c} (Eq. 6) for y^c the predicted class, the index of
      the most emotional clip;
    - ``activation_map`` (B, clips, num_classes, clip_dim): M, the clip features scaled by every
      class's clip scores (Eq. 7).

    Unlike the other zoo models, the classifier is not the shared dropout + linear head on one
    feature vector: Eq. 9 classifies every class from its own pooled representation, so
    ``forward_features`` (the zoo's contract) runs the whole network and returns ``features``.
    """

    torchvision_arch = "resnet18"

    def __init__(self, num_classes: int = 7, clips: int = 7, frames_per_clip: int = 5, clip_dim: int = 1024,
                 pooling: str = "max") -> None:
        super().__init__()
        self.clips = clips
        self.frames_per_clip = frames_per_clip
        self.feature_dim = clip_dim
        self.backbone = resnet18(weights=None)
        frame_dim = self.backbone.fc.in_features
        self.backbone.fc = nn.Identity()  # global-average-pooled features f_k
        self.encoder = ClipFeatureEncoder(frame_dim, clip_dim)
        self.activation = EmotionalIntensityActivation(clip_dim, num_classes, pooling)

    def forward(self, video: Tensor, scene: Tensor | None = None) -> dict[str, Tensor]:
        """``scene`` is ignored: CEFLNet sees faces only (accepted for the common model interface)."""
        expected_frames = self.clips * self.frames_per_clip
        if video.ndim != 5 or video.shape[2] != expected_frames:
            raise InputError(
                f"CEFLNet expects video (B, C, T, H, W) with T = clips × frames_per_clip = "
                f"{self.clips} × {self.frames_per_clip} = {expected_frames}, got shape {tuple(video.shape)}"
            )
        batch, channels, _, height, width = video.shape
        frames = video.transpose(1, 2).reshape(batch * expected_frames, channels, height, width)
        frame_features = self.backbone(frames).reshape(batch * self.clips, self.frames_per_clip, -1)
        clip_features = self.encoder(frame_features).reshape(batch, self.clips, -1)  # V^f, Eq. 4
        scores, activation_map, pooled, logits = self.activation(clip_features)
        predicted = logits.argmax(dim=1)
        rows = torch.arange(batch, device=video.device)
        return {
            "logits": logits,
            "features": pooled[rows, predicted],
            "clip_scores": scores,
            "located_clip": scores[rows, :, predicted].argmax(dim=1),
            "activation_map": activation_map,
        }

    def forward_features(self, video: Tensor, scene: Tensor | None = None) -> Tensor:
        """V̂^f of the predicted class (see :meth:`forward`)."""
        return self.forward(video, scene)["features"]
