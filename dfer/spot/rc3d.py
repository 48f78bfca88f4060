"""R-C3D, Region Convolutional 3D Network (Xu et al., ICCV 2017), frozen-trunk variant.

The paper runs a C3D trunk over the frames and does Faster R-CNN in time. Here the trunk is frozen
and precomputed: its per-snippet features (``dfer spot features`` with a C3D — or any — extractor)
form the feature map, so the 3D RoI pooling over (time, height, width) becomes 1D RoI pooling over
time (the spatial axes are already pooled by the trunk). On that map:

* **proposal subnet** — Conv1d (dim → ``hidden``, k3) and, at every position, anchors of
  ``lengths`` positions centred there; per anchor an actionness logit and centre/length offsets
  ``(δc, δl)`` (Faster R-CNN: ``c = c_a + δc · l_a``, ``l = l_a · exp(δl)``); anchors with IoU ≥ 0.7
  with an expression (and each expression's best anchor) are positives, IoU < 0.3 negatives;
* **classification subnet** — the ``rois`` best proposals after NMS, each max-pooled over its span
  of the conv map into ``bins`` bins, through FC (→ ``hidden``) to an expression-vs-background
  logit and refined offsets (positives IoU ≥ 0.5).

Loss: balanced binary cross-entropy and smooth-L1 on positives in both stages. Proposals: the
refined RoIs scored by the second stage's probability, Soft-NMS.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dfer.metrics.temporal import segment_iou
from dfer.spot.ops import soft_nms, weighted_logistic_loss



def decode(anchors: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``[start, end]`` rows from anchors ``[start, end]`` and offsets ``(δc, δl)``."""
    centre, length = anchors.mean(dim=-1), anchors[..., 1] - anchors[..., 0]
    centre = centre + offsets[..., 0] * length
    length = length * torch.exp(offsets[..., 1].clamp(max=4.0))
    return torch.stack([centre - length / 2, centre + length / 2], dim=-1)


def encode(anchors: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Offsets ``(δc, δl)`` that move ``anchors`` onto ``segments`` (row by row)."""
    length = anchors[:, 1] - anchors[:, 0]
    centre = anchors.mean(axis=1)
    return np.stack([(segments.mean(axis=1) - centre) / length,
                     np.log((segments[:, 1] - segments[:, 0]) / length)], axis=1).astype(np.float32)


class RC3D(nn.Module):
    """R-C3D on a frozen trunk's feature map (see the module docstring)."""

    def __init__(self, feature_dim: int, positions: int = 100, lengths: tuple = (2, 4, 8, 16, 32), hidden: int = 512,
                 rois: int = 64, bins: int = 4, nms_iou: float = 0.7, regression_weight: float = 1.0):
        super().__init__()
        self.positions, self.rois, self.bins, self.nms_iou = positions, rois, bins, nms_iou
        self.regression_weight = regression_weight
        centres = np.arange(positions) + 0.5
        anchors = np.array([(c - length / 2, c + length / 2) for c in centres for length in lengths], np.float32)
        self.register_buffer("anchors", torch.from_numpy(anchors), persistent=False)
        self.lengths = len(lengths)
        self.trunk_conv = nn.Sequential(nn.Conv1d(feature_dim, hidden, 3, padding=1), nn.ReLU(inplace=True))
        self.proposal_head = nn.Conv1d(hidden, 3 * len(lengths), 1)
        self.classifier = nn.Sequential(nn.Linear(hidden * bins, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
                                        nn.Linear(hidden, 3))

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Stage 1 for all anchors, then stage 2 on each video's ``rois`` best proposals."""
        conv = self.trunk_conv(features)  # (B, hidden, T)
        batch = conv.shape[0]
        stage1 = self.proposal_head(conv).reshape(batch, self.lengths, 3, self.positions)
        stage1 = stage1.permute(0, 3, 1, 2).reshape(batch, -1, 3)  # (B, anchors, 3): position-major, like anchors
        boxes = decode(self.anchors, stage1[..., 1:].detach()).clamp(0, self.positions)
        rois, pooled = [], []
        for index in range(batch):
            keep = self._nms(boxes[index], stage1[index, :, 0].detach())
            rois.append(boxes[index, keep])
            pooled.append(self._pool(conv[index], boxes[index, keep]))
        stage2 = self.classifier(torch.stack(pooled).flatten(2))  # (B, rois, 3)
        return {"anchor_logit": stage1[..., 0], "anchor_offsets": stage1[..., 1:], "rois": torch.stack(rois),
                "roi_logit": stage2[..., 0], "roi_offsets": stage2[..., 1:]}

    def _nms(self, boxes: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """Indices of the ``rois`` best non-overlapping (IoU < ``nms_iou``) proposals, padded by the
        next best when fewer survive."""
        order = torch.argsort(scores, descending=True)
        candidates = boxes[order].numpy().astype(np.float64)
        kept: list[int] = []
        for i in range(len(order)):
            if len(kept) == self.rois:
                break
            if kept and segment_iou(candidates[i:i + 1, :2], candidates[kept]).max() >= self.nms_iou:
                continue
            kept.append(i)
        extra = [i for i in range(len(order)) if i not in set(kept)][:self.rois - len(kept)]
        return order[torch.tensor(kept + extra)]

    def _pool(self, conv: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        """1D RoI max pooling: each RoI's span of the conv map into ``bins`` bins → (rois, hidden, bins)."""
        pooled = []
        for start, end in rois.detach().tolist():
            first = int(np.clip(np.floor(start), 0, self.positions - 1))
            last = int(np.clip(np.ceil(end), first + 1, self.positions))
            pooled.append(F.adaptive_max_pool1d(conv[:, first:last], self.bins))
        return torch.stack(pooled)

    def targets(self, segments: np.ndarray) -> dict:
        """Stage-1 anchor labels (1 / 0 / −1 ignored) and offsets; the segments (in positions) for stage 2."""
        anchors = self.anchors.numpy().astype(np.float64)
        segments = np.asarray(segments, np.float64).reshape(-1, 2) * self.positions
        label = np.zeros(len(anchors), np.float32)
        offsets = np.zeros((len(anchors), 2), np.float32)
        if len(segments):
            iou = segment_iou(anchors[:, :2], segments)
            best = iou.argmax(axis=1)
            top = iou.max(axis=1)
            label = np.where(top >= 0.7, 1.0, np.where(top < 0.3, 0.0, -1.0)).astype(np.float32)
            label[iou.argmax(axis=0)] = 1.0  # each expression's best anchor is a positive
            offsets = encode(anchors, segments[best])
        return {"label": torch.from_numpy(label), "offsets": torch.from_numpy(offsets),
                "segments": torch.from_numpy(segments)}

    def loss(self, outputs: dict, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        label = batch["label"]
        positive = (label > 0).float()
        proposal_cls = weighted_logistic_loss(torch.sigmoid(outputs["anchor_logit"]), positive, (label >= 0).float())
        proposal_reg = (F.smooth_l1_loss(outputs["anchor_offsets"], batch["offsets"], reduction="none").sum(-1)
                        * positive).sum() / positive.sum().clamp(min=1)
        roi_labels, roi_offsets = [], []
        for index, segments in enumerate(batch["segments"]):
            rois = outputs["rois"][index].numpy().astype(np.float64)
            segments = segments.numpy()
            if len(segments):
                iou = segment_iou(rois[:, :2], segments)
                roi_labels.append((iou.max(axis=1) >= 0.5).astype(np.float32))
                spans = np.maximum(rois[:, 1] - rois[:, 0], 1e-3)
                safe = np.stack([rois[:, 0], rois[:, 0] + spans], axis=1)
                roi_offsets.append(encode(safe, segments[iou.argmax(axis=1)]))
            else:
                roi_labels.append(np.zeros(len(rois), np.float32))
                roi_offsets.append(np.zeros((len(rois), 2), np.float32))
        roi_label = torch.from_numpy(np.stack(roi_labels))
        roi_target = torch.from_numpy(np.stack(roi_offsets))
        classification = weighted_logistic_loss(torch.sigmoid(outputs["roi_logit"]), roi_label, torch.ones_like(roi_label))
        regression = (F.smooth_l1_loss(outputs["roi_offsets"], roi_target, reduction="none").sum(-1)
                      * roi_label).sum() / roi_label.sum().clamp(min=1)
        total = proposal_cls + classification + self.regression_weight * (proposal_reg + regression)
        return {"loss": total, "proposal_classification": proposal_cls, "proposal_regression": proposal_reg,
                "classification": classification, "regression": regression}

    def propose(self, outputs: dict, index: int, top: int = 100) -> np.ndarray:
        """Video ``index`` of a batch's outputs → ``[start, end, score]`` rows in [0, 1]."""
        rois = outputs["rois"][index].detach()
        spans = torch.stack([rois[:, 0], rois[:, 0] + (rois[:, 1] - rois[:, 0]).clamp(min=1e-3)], dim=1)
        refined = decode(spans, outputs["roi_offsets"][index].detach()).clamp(0, self.positions).numpy()
        score = torch.sigmoid(outputs["roi_logit"][index]).detach().numpy()
        keep = refined[:, 1] - refined[:, 0] >= 0.5
        rows = np.stack([refined[keep, 0] / self.positions, refined[keep, 1] / self.positions, score[keep]], axis=1)
        return soft_nms(rows, alpha=0.4, low=0.5, high=0.9, top=top) if len(rows) else np.zeros((0, 3))
