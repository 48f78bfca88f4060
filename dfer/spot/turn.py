"""TURN, Temporal Unit Regression Network (Gao et al., ICCV 2017), for expression proposals.

Top-down: the video is a sequence of units (here the localizer's ``positions``, each the mean of
the snippet features it covers, so a unit is about one 16-frame snippet as in the paper). Anchor
clips of ``lengths`` units slide with a stride of half their length (at least one unit). Each clip
is described by the mean unit feature of its context before (``context`` units), of itself and of
its context after, concatenated (3 × dim); an MLP (→ 1000 → 3) gives the actionness logit and the
start and end offsets in units (unit regression). Training: clips with IoU ≥ 0.5 with an expression
are positives, IoU < 0.2 negatives (balanced binary cross-entropy); offsets are regressed (L1,
weight ``regression_weight``) on positives toward that expression's boundaries. Proposals: every
clip moved by its offsets, scored by its actionness, Soft-NMS.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dfer.metrics.temporal import segment_iou
from dfer.spot.ops import soft_nms, weighted_logistic_loss



class TURN(nn.Module):
    """Temporal Unit Regression Network (see the module docstring)."""

    def __init__(self, feature_dim: int, positions: int = 100, lengths: tuple = (1, 2, 4, 8, 16, 32),
                 context: int = 4, hidden: int = 1000, dropout: float = 0.5, regression_weight: float = 2.0):
        super().__init__()
        self.positions, self.context, self.regression_weight = positions, context, regression_weight
        anchors = [(start, start + length) for length in lengths if length <= positions
                   for start in range(0, positions - length + 1, max(length // 2, 1))]
        self.register_buffer("anchors", torch.tensor(anchors, dtype=torch.long), persistent=False)
        self.head = nn.Sequential(nn.Linear(3 * feature_dim, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                  nn.Linear(hidden, 3))

    def clip_features(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, dim, T)`` → ``(B, anchors, 3 · dim)``: mean units before, inside, after each clip
        (zeros where the context runs past the video)."""
        units = features.transpose(1, 2)  # (B, T, dim)
        prefix = torch.cat([torch.zeros_like(units[:, :1]), units.cumsum(dim=1)], dim=1)  # (B, T + 1, dim)

        def mean(first, last):
            first, last = first.clamp(0, self.positions), last.clamp(0, self.positions)
            count = (last - first).clamp(min=1).to(units.dtype)[None, :, None]
            return (prefix[:, last] - prefix[:, first]) / count

        start, end = self.anchors[:, 0], self.anchors[:, 1]
        return torch.cat([mean(start - self.context, start), mean(start, end), mean(end, end + self.context)], dim=2)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per anchor clip: actionness logit and start/end offsets in units."""
        out = self.head(self.clip_features(features))
        return {"logit": out[..., 0], "offsets": out[..., 1:]}

    def targets(self, segments: np.ndarray) -> dict[str, torch.Tensor]:
        """Per anchor: label (1 positive, 0 negative, −1 ignored) and offsets to the best-matching
        expression's boundaries, in units."""
        anchors = self.anchors.numpy().astype(float)
        segments = np.asarray(segments, np.float64).reshape(-1, 2) * self.positions
        label = np.zeros(len(anchors), np.float32)
        offsets = np.zeros((len(anchors), 2), np.float32)
        if len(segments):
            iou = segment_iou(anchors[:, :2], segments)  # (anchors, segments)
            best = iou.argmax(axis=1)
            top = iou.max(axis=1)
            label = np.where(top >= 0.5, 1.0, np.where(top < 0.2, 0.0, -1.0)).astype(np.float32)
            offsets = (segments[best] - anchors).astype(np.float32)
        return {"label": torch.from_numpy(label), "offsets": torch.from_numpy(offsets)}

    def loss(self, outputs: dict, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        label = batch["label"]
        counted = (label >= 0).float()
        positive = (label > 0).float()
        classification = weighted_logistic_loss(torch.sigmoid(outputs["logit"]), positive, counted)
        regression = ((outputs["offsets"] - batch["offsets"]).abs().sum(dim=2) * positive).sum() / positive.sum().clamp(min=1)
        return {"loss": classification + self.regression_weight * regression, "classification": classification,
                "regression": regression}

    def propose(self, outputs: dict, index: int, top: int = 100) -> np.ndarray:
        """Video ``index`` of a batch's outputs → ``[start, end, score]`` rows in [0, 1]."""
        anchors = self.anchors.numpy().astype(float)
        offsets = outputs["offsets"][index].detach().numpy()
        score = torch.sigmoid(outputs["logit"][index]).detach().numpy()
        bounds = np.clip(anchors + offsets, 0, self.positions)
        start, end = np.minimum(bounds[:, 0], bounds[:, 1]), np.maximum(bounds[:, 0], bounds[:, 1])
        keep = end - start >= 0.5  # at least half a unit long
        rows = np.stack([start[keep] / self.positions, end[keep] / self.positions, score[keep]], axis=1)
        return soft_nms(rows, alpha=0.4, low=0.5, high=0.9, top=top) if len(rows) else np.zeros((0, 3))
