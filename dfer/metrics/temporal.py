"""Overlap of temporal intervals, one implementation each, for every stage that compares spans.

- :func:`segment_iou`: tIoU of continuous ``[start, end]`` segments (seconds or fractions of a
  video): the proposal evaluation of ActivityNet (``Evaluation/eval_proposal.py``, the AR@AN and
  AUC of SDFE-LV's "Evaluation Metric"), the BMN / BSN / TURN / R-C3D training targets and their NMS.
- :func:`segment_ioa`: intersection over the candidate's own length (BMN's boundary targets).
- :func:`frame_iou`: IoU of inclusive frame intervals ``[onset, offset]`` (MEGC spotting F1:
  inter = max(0, min(e1, e2) − max(s1, s2) + 1)).
"""

from __future__ import annotations

import numpy as np

from dfer.errors import InputError


def _pairs(candidates, segments) -> tuple[np.ndarray, np.ndarray]:
    candidates = np.asarray(candidates, np.float64)
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    if candidates.shape[-1:] != (2,):
        raise InputError(f"expected [start, end] rows (..., 2), got shape {candidates.shape}")
    return candidates, segments


def segment_iou(candidates, segments) -> np.ndarray:
    """tIoU of every candidate ``[start, end]`` (shape ``(..., 2)``) with every segment ``(m, 2)``
    → ``(..., m)``; 0 where the union is empty.

    The arithmetic is ActivityNet's, operation for operation: ``inter = (min(ends) − max(starts))``
    clipped at 0, ``union = candidate length + segment length − inter``, ``inter / union``.
    """
    candidates, segments = _pairs(candidates, segments)
    start = np.maximum(candidates[..., 0, None], segments[:, 0])
    end = np.minimum(candidates[..., 1, None], segments[:, 1])
    inter = (end - start).clip(0)
    union = (candidates[..., 1, None] - candidates[..., 0, None]) + (segments[:, 1] - segments[:, 0]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def segment_ioa(candidates, regions) -> np.ndarray:
    """Share of each candidate ``[start, end]`` (``(..., 2)``) that lies inside each region
    ``(m, 2)`` → ``(..., m)`` (intersection over the candidate's length; 0 for an empty candidate)."""
    candidates, regions = _pairs(candidates, regions)
    inter = (np.minimum(candidates[..., 1, None], regions[:, 1])
             - np.maximum(candidates[..., 0, None], regions[:, 0])).clip(0)
    length = candidates[..., 1, None] - candidates[..., 0, None]
    return np.divide(inter, length, out=np.zeros_like(inter), where=length > 0)


def frame_iou(candidates, intervals) -> np.ndarray:
    """IoU of inclusive frame intervals: every candidate ``[onset, offset]`` (``(..., 2)``) with
    every interval ``(m, 2)`` → ``(..., m)``; ``inter = max(0, min(e1, e2) − max(s1, s2) + 1)``,
    ``union = (e1 − s1 + 1) + (e2 − s2 + 1) − inter``."""
    candidates, intervals = _pairs(candidates, intervals)
    inter = (np.minimum(candidates[..., 1, None], intervals[:, 1])
             - np.maximum(candidates[..., 0, None], intervals[:, 0]) + 1).clip(0)
    union = (candidates[..., 1, None] - candidates[..., 0, None] + 1) + (intervals[:, 1] - intervals[:, 0] + 1) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
