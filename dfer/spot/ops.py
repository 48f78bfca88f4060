"""Operations the proposal localizers share: Gaussian Soft-NMS and the balanced logistic loss."""

from __future__ import annotations

import numpy as np
import torch

from dfer.metrics.temporal import segment_iou


def weighted_logistic_loss(predicted: torch.Tensor, positive: torch.Tensor, counted: torch.Tensor) -> torch.Tensor:
    """BMN's binary logistic loss (Lin et al., ICCV 2019), positives and negatives weighted to
    balance: over the ``counted`` entries, positives (``positive`` = 1) weigh ``0.5 · n / n⁺`` and
    negatives ``0.5 · n / n⁻``; mean over the counted entries. BSN, TURN and R-C3D train their
    actionness and proposal scores with it too."""
    entries, positives = counted.sum(), (positive * counted).sum()
    ratio = entries / positives.clamp(min=1)
    weight_positive = 0.5 * ratio
    weight_negative = 0.5 * ratio / (ratio - 1).clamp(min=1e-6)
    epsilon = 1e-6
    loss = (weight_positive * torch.log(predicted + epsilon) * positive
            + weight_negative * torch.log(1 - predicted + epsilon) * (1 - positive)) * counted
    return -loss.sum() / entries


def soft_nms(proposals: np.ndarray, alpha: float = 0.4, low: float = 0.5, high: float = 0.9, top: int = 100
             ) -> np.ndarray:
    """BMN's Gaussian Soft-NMS on ``(n, 3)`` rows ``[start, end, score]`` (times in [0, 1]): the
    best remaining proposal is kept and the others' scores decay by ``exp(−IoU² / alpha)`` where
    their IoU with it exceeds ``low + (high − low) · its length``; the ``top`` best are returned."""
    remaining = proposals[np.argsort(-proposals[:, 2], kind="stable")].copy()
    kept = []
    while len(remaining) and len(kept) < top:
        best = remaining[0]
        kept.append(best.copy())
        remaining = remaining[1:]
        if not len(remaining):
            break
        iou = segment_iou(remaining[:, :2], best[None, :2])[:, 0]
        decay = iou > low + (high - low) * (best[1] - best[0])
        remaining[decay, 2] *= np.exp(-(iou[decay] ** 2) / alpha)
        remaining = remaining[np.argsort(-remaining[:, 2], kind="stable")]
    return np.array(kept).reshape(-1, 3)
