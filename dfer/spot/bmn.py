"""BMN, the Boundary-Matching Network (Lin et al., ICCV 2019), for expression proposals.

Input: snippet features rescaled to ``T`` positions (``(batch, dim, T)``). A base of two grouped
Conv1d layers feeds the temporal evaluation module (start and end probabilities per position)
and the proposal evaluation module: the boundary-matching layer samples, for every proposal
``(duration d, start t)`` — covering positions ``[t, t + d + 1)`` — ``samples`` points per
proposal (``per_bin`` interpolated points each) over the proposal extended by ``boundary_ratio``
× its length on both sides; a Conv3d over the sample axis and Conv2d layers give a confidence map
``(batch, 2, D, T)`` (regression and classification confidence, as the paper). Hyperparameters
default to the paper's (Lin et al., ICCV 2019): T = 100, 32 samples × 3, ratio 0.5, hidden 256 / 512 / 128.

Training targets (:func:`targets`), the loss (:func:`bmn_loss`) and the proposals of a video with
Soft-NMS (:func:`proposals`) are here too; ``dfer.spot.train`` runs them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dfer.metrics.temporal import segment_ioa, segment_iou
from dfer.spot.ops import soft_nms, weighted_logistic_loss


def sampling_weights(positions: int, durations: int, samples: int = 32, per_bin: int = 3,
                     boundary_ratio: float = 0.5) -> np.ndarray:
    """``(T, samples, D, T)`` interpolation weights of the boundary-matching layer: entry
    ``[i, n, d, t]`` is feature position ``i``'s weight in sample ``n`` of proposal ``(d, t)``
    (zero for proposals that run past the end)."""
    weights = np.zeros((positions, samples, durations, positions), np.float64)
    d, t = np.meshgrid(np.arange(durations), np.arange(positions), indexing="ij")
    d, t = d[t + d < positions], t[t + d < positions]
    length = d + 1
    low, high = t - boundary_ratio * length, t + length + boundary_ratio * length
    points = low[:, None] + (high - low)[:, None] * np.linspace(0, 1, samples * per_bin)[None, :]
    below = np.floor(points).astype(int)
    fraction = points - below
    sample = np.broadcast_to(np.repeat(np.arange(samples), per_bin), points.shape)
    d, t = np.broadcast_to(d[:, None], points.shape), np.broadcast_to(t[:, None], points.shape)
    for index, weight in ((below, 1 - fraction), (below + 1, fraction)):
        inside = (index >= 0) & (index < positions) & (weight > 0)
        np.add.at(weights, (index[inside], sample[inside], d[inside], t[inside]), weight[inside] / per_bin)
    return weights.astype(np.float32)


class BMN(nn.Module):
    """The Boundary-Matching Network (see the module docstring)."""

    def __init__(self, feature_dim: int, positions: int = 100, durations: int | None = None, samples: int = 32,
                 per_bin: int = 3, boundary_ratio: float = 0.5, hidden_1d: int = 256, hidden_2d: int = 128,
                 hidden_3d: int = 512):
        super().__init__()
        self.positions, self.durations, self.samples = positions, durations or positions, samples
        groups = 4 if feature_dim % 4 == 0 and hidden_1d % 4 == 0 else 1
        self.base = nn.Sequential(
            nn.Conv1d(feature_dim, hidden_1d, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1, groups=groups), nn.ReLU(inplace=True))

        def boundary_head():
            return nn.Sequential(nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
                                 nn.Conv1d(hidden_1d, 1, 1), nn.Sigmoid())

        self.start, self.end = boundary_head(), boundary_head()
        self.proposal_1d = nn.Sequential(nn.Conv1d(hidden_1d, hidden_1d, 3, padding=1), nn.ReLU(inplace=True))
        self.proposal_3d = nn.Sequential(nn.Conv3d(hidden_1d, hidden_3d, (samples, 1, 1), stride=(samples, 1, 1)),
                                         nn.ReLU(inplace=True))
        self.proposal_2d = nn.Sequential(
            nn.Conv2d(hidden_3d, hidden_2d, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden_2d, hidden_2d, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden_2d, hidden_2d, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden_2d, 2, 1), nn.Sigmoid())
        weights = sampling_weights(positions, self.durations, samples, per_bin, boundary_ratio)
        self.register_buffer("sampling", torch.from_numpy(weights.reshape(positions, -1)), persistent=False)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """``features (B, dim, T)`` → ``confidence (B, 2, D, T)``, ``start`` and ``end`` ``(B, T)``."""
        base = self.base(features)
        sampled = torch.matmul(self.proposal_1d(base), self.sampling)
        sampled = sampled.reshape(base.shape[0], base.shape[1], self.samples, self.durations, self.positions)
        confidence = self.proposal_2d(self.proposal_3d(sampled).squeeze(2))
        return {"confidence": confidence, "start": self.start(base).squeeze(1), "end": self.end(base).squeeze(1)}

    # The localizer interface dfer.spot.train uses (shared with BSN).

    def targets(self, segments: np.ndarray) -> dict[str, torch.Tensor]:
        """One video's training targets (see :func:`targets`)."""
        iou_map, start, end = targets(segments, self.positions, self.durations)
        return {"iou_map": torch.from_numpy(iou_map), "start": torch.from_numpy(start), "end": torch.from_numpy(end)}

    def loss(self, outputs: dict, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        return bmn_loss(outputs, batch["iou_map"], batch["start"], batch["end"], generator)

    def propose(self, outputs: dict, index: int, top: int = 100) -> np.ndarray:
        """Video ``index`` of a batch's outputs → ``[start, end, score]`` rows in [0, 1]."""
        return proposals(outputs["confidence"][index].detach().numpy(), outputs["start"][index].detach().numpy(),
                         outputs["end"][index].detach().numpy(), top=top)


def targets(segments: np.ndarray, positions: int = 100, durations: int | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BMN's training targets for ground-truth ``segments`` ``(n, 2)`` in [0, 1] of the video:
    the IoU map ``(D, T)`` (each proposal's best IoU with a segment), and per position the start
    and end match scores (overlap of the position's anchor with a region of 3 positions around a
    segment's start or end, as a share of the anchor)."""
    durations = durations or positions
    gap = 1.0 / positions
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    d, t = np.meshgrid(np.arange(durations), np.arange(positions), indexing="ij")
    if len(segments) == 0:
        return np.zeros((durations, positions), np.float32), np.zeros(positions, np.float32), np.zeros(positions,
                                                                                                         np.float32)
    iou = segment_iou(np.stack([t * gap, (t + d + 1) * gap], axis=-1), segments).max(axis=-1)
    iou[t + d >= positions] = 0.0
    anchors = np.stack([(np.arange(positions) - 0.5) * gap, (np.arange(positions) + 0.5) * gap], axis=1)
    half = 1.5 * gap
    start_regions = np.stack([segments[:, 0] - half, segments[:, 0] + half], axis=1)
    end_regions = np.stack([segments[:, 1] - half, segments[:, 1] + half], axis=1)
    start = segment_ioa(anchors, start_regions).max(axis=1)
    end = segment_ioa(anchors, end_regions).max(axis=1)
    return iou.astype(np.float32), start.astype(np.float32), end.astype(np.float32)


def valid_mask(positions: int, durations: int) -> torch.Tensor:
    """``(D, T)``: 1 where proposal ``(d, t)`` ends inside the video."""
    d, t = torch.meshgrid(torch.arange(durations), torch.arange(positions), indexing="ij")
    return (t + d < positions).float()


def bmn_loss(outputs: dict, iou_map: torch.Tensor, start: torch.Tensor, end: torch.Tensor,
             generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """TEM + 10 · PEM regression + PEM classification (BMN's training loss). Regression: MSE on all
    proposals with IoU > 0.7 and random subsets of those in (0.3, 0.7] and (0, 0.3] as many as the
    high ones; classification: positives IoU > 0.9."""
    durations, positions = iou_map.shape[-2:]
    mask = valid_mask(positions, durations).to(iou_map.device).expand_as(iou_map)
    iou_map = iou_map * mask
    ones = torch.ones_like(start)
    tem = (weighted_logistic_loss(outputs["start"], (start > 0.5).float(), ones)
           + weighted_logistic_loss(outputs["end"], (end > 0.5).float(), ones))
    regression, classification = outputs["confidence"][:, 0], outputs["confidence"][:, 1]
    high = (iou_map > 0.7).float()
    middle = ((iou_map > 0.3) & (iou_map <= 0.7)).float()
    low = ((iou_map > 0.0) & (iou_map <= 0.3)).float() * mask
    draws = torch.rand(iou_map.shape, generator=generator, device="cpu").to(iou_map.device)
    keep_middle = middle * (draws > 1 - high.sum() / middle.sum().clamp(min=1)).float()
    draws = torch.rand(iou_map.shape, generator=generator, device="cpu").to(iou_map.device)
    keep_low = low * (draws > 1 - high.sum() / low.sum().clamp(min=1)).float()
    weights = high + keep_middle + keep_low
    pem_regression = 0.5 * (((regression - iou_map) * weights) ** 2).sum() / weights.sum().clamp(min=1)
    pem_classification = weighted_logistic_loss(classification, (iou_map > 0.9).float(), mask)
    total = tem + 10 * pem_regression + pem_classification
    return {"loss": total, "tem": tem, "pem_regression": pem_regression, "pem_classification": pem_classification}


def proposals(confidence: np.ndarray, start: np.ndarray, end: np.ndarray, top: int = 100, alpha: float = 0.4
              ) -> np.ndarray:
    """One video's proposals ``[start, end, score]`` (times in [0, 1]) from BMN's outputs: start
    positions where the start probability peaks or exceeds half its maximum, likewise ends; every
    start–end pair within the map scored ``start · end · classification · regression``; Soft-NMS.

    One convention for training and decoding, BMN's own (Lin et al.'s release): position k is the
    boundary time k/T for starts and ends alike (:func:`targets` centres both anchors there), so
    start s and end e > s give the proposal [s/T, e/T], which is map entry (d = e − s − 1, t = s)."""
    durations, positions = confidence.shape[-2:]

    def candidates(probability):
        peak = np.zeros(positions, bool)
        peak[1:-1] = (probability[1:-1] > probability[:-2]) & (probability[1:-1] > probability[2:])
        return np.flatnonzero(peak | (probability > 0.5 * probability.max()))

    rows = []
    for s in candidates(start):
        for e in candidates(end):
            d = e - s - 1
            if 0 <= d < durations and e < positions:
                score = start[s] * end[e] * confidence[1, d, s] * confidence[0, d, s]
                rows.append((s / positions, e / positions, score))
    if not rows:
        return np.zeros((0, 3))
    return soft_nms(np.array(rows), alpha=alpha, top=top)
