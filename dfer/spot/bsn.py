"""BSN, the Boundary-Sensitive Network (Lin et al., ECCV 2018), for expression proposals.

Three parts, as in the paper:

* **TEM** — Conv1d (dim → 512, k3) → Conv1d (512 → 512, k3) → Conv1d (512 → 3, k1) with sigmoids:
  per position the probability of being inside an expression (actionness), at its start, at its end;
* **PGM** — candidate boundaries where the start (end) probability peaks or exceeds half its
  maximum; every start–end pair up to ``max_duration`` positions is a proposal, described by its
  boundary-sensitive feature: the actionness curve sampled at 8 points over the start region, 16
  over the proposal and 8 over the end region (each region ``boundary_ratio`` × the length around
  the boundary), 32 values;
* **PEM** — an MLP 32 → 256 → 1 (sigmoid) scoring each proposal's overlap with an expression.

A proposal's score is start · end · PEM; Soft-NMS with α = 0.75. The paper trains TEM, then PEM on
TEM's proposals; here both are trained in each step, PEM on proposals from the detached TEM
outputs (so PEM never back-propagates into TEM, as in the paper), with IoU regression on a
balanced sample (all proposals with IoU > 0.6 and twice as many others, at random).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dfer.metrics.temporal import segment_ioa, segment_iou
from dfer.spot.bmn import targets as bmn_targets
from dfer.spot.ops import soft_nms, weighted_logistic_loss


class BSN(nn.Module):
    """The Boundary-Sensitive Network (see the module docstring)."""

    def __init__(self, feature_dim: int, positions: int = 100, max_duration: int | None = None, hidden: int = 512,
                 pem_hidden: int = 256, boundary_ratio: float = 0.2, start_samples: int = 8, action_samples: int = 16,
                 end_samples: int = 8, alpha: float = 0.75, max_proposals: int = 1000):
        super().__init__()
        self.positions, self.max_duration = positions, max_duration or positions
        self.boundary_ratio, self.alpha, self.max_proposals = boundary_ratio, alpha, max_proposals
        self.samples = (start_samples, action_samples, end_samples)
        self.tem = nn.Sequential(
            nn.Conv1d(feature_dim, hidden, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, hidden, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(hidden, 3, 1), nn.Sigmoid())
        self.pem = nn.Sequential(nn.Linear(sum(self.samples), pem_hidden), nn.ReLU(inplace=True),
                                 nn.Linear(pem_hidden, 1), nn.Sigmoid())

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """``features (B, dim, T)`` → ``action``, ``start``, ``end`` probabilities ``(B, T)``."""
        action, start, end = self.tem(features).unbind(1)
        return {"action": action, "start": start, "end": end}

    def candidates(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """PGM: ``(n, 2)`` position pairs ``[s, e]`` (inclusive) from boundary peaks, the
        ``max_proposals`` with the highest start · end."""

        def boundaries(probability):
            peak = np.zeros(len(probability), bool)
            peak[1:-1] = (probability[1:-1] > probability[:-2]) & (probability[1:-1] > probability[2:])
            return np.flatnonzero(peak | (probability > 0.5 * probability.max()))

        s, e = np.meshgrid(boundaries(start), boundaries(end), indexing="ij")
        keep = (e >= s) & (e - s < self.max_duration)
        pairs = np.stack([s[keep], e[keep]], axis=1)
        order = np.argsort(-(start[pairs[:, 0]] * end[pairs[:, 1]]), kind="stable")[:self.max_proposals]
        return pairs[order]

    def boundary_features(self, action: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """``(n, 32)`` boundary-sensitive features: actionness sampled over the start region, the
        proposal and the end region (positions' centres at i + 0.5; linear interpolation)."""
        low, high = pairs[:, 0].astype(float), pairs[:, 1].astype(float) + 1
        margin = self.boundary_ratio * (high - low)
        regions = ((low - margin, low + margin), (low, high), (high - margin, high + margin))
        centres = np.arange(len(action)) + 0.5
        parts = []
        for (first, last), count in zip(regions, self.samples):
            points = first[:, None] + (last - first)[:, None] * (np.arange(count) + 0.5)[None, :] / count
            parts.append(np.interp(points, centres, action))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def targets(self, segments: np.ndarray) -> dict:
        """Per position: actionness (an anchor's overlap share with an expression), start, end; and
        the segments themselves for PEM's IoU labels."""
        _, start, end = bmn_targets(segments, self.positions, 1)
        gap = 1.0 / self.positions
        anchors = np.stack([np.arange(self.positions) * gap, (np.arange(self.positions) + 1) * gap], axis=1)
        segments = np.asarray(segments, np.float64).reshape(-1, 2)
        action = segment_ioa(anchors, segments).max(axis=1) if len(segments) else np.zeros(self.positions)
        return {"action": torch.from_numpy(action.astype(np.float32)), "start": torch.from_numpy(start),
                "end": torch.from_numpy(end), "segments": torch.from_numpy(segments)}

    def loss(self, outputs: dict, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        ones = torch.ones_like(outputs["start"])
        tem = sum(weighted_logistic_loss(outputs[name], (batch[name] > 0.5).float(), ones)
                  for name in ("action", "start", "end"))
        features, labels = [], []
        for index, segments in enumerate(batch["segments"]):
            curves = {name: outputs[name][index].detach().numpy() for name in ("action", "start", "end")}
            pairs = self.candidates(curves["start"], curves["end"])
            if not len(pairs) or not len(segments):
                continue
            iou = segment_iou(np.stack([pairs[:, 0], pairs[:, 1] + 1], axis=1) / self.positions, segments.numpy()).max(axis=1)
            high = np.flatnonzero(iou > 0.6)
            others = np.flatnonzero(iou <= 0.6)
            draw = torch.randperm(len(others), generator=generator).numpy()[:max(2 * len(high), 1)]
            chosen = np.concatenate([high, others[draw]])
            features.append(self.boundary_features(curves["action"], pairs[chosen]))
            labels.append(iou[chosen])
        if features:
            scores = self.pem(torch.from_numpy(np.concatenate(features))).squeeze(1)
            pem = nn.functional.mse_loss(scores, torch.from_numpy(np.concatenate(labels).astype(np.float32)))
        else:
            pem = outputs["start"].sum() * 0.0
        return {"loss": tem + pem, "tem": tem, "pem": pem}

    def propose(self, outputs: dict, index: int, top: int = 100) -> np.ndarray:
        """Video ``index`` of a batch's outputs → ``[start, end, score]`` rows in [0, 1]."""
        curves = {name: outputs[name][index].detach().numpy() for name in ("action", "start", "end")}
        pairs = self.candidates(curves["start"], curves["end"])
        if not len(pairs):
            return np.zeros((0, 3))
        with torch.no_grad():
            confidence = self.pem(torch.from_numpy(self.boundary_features(curves["action"], pairs))).squeeze(1).numpy()
        score = curves["start"][pairs[:, 0]] * curves["end"][pairs[:, 1]] * confidence
        rows = np.stack([pairs[:, 0] / self.positions, (pairs[:, 1] + 1) / self.positions, score], axis=1)
        return soft_nms(rows, alpha=self.alpha, low=0.65, high=0.9, top=top)
