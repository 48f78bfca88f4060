"""TSN's optical-flow input in NumPy and OpenCV, without torch: what :class:`dfer.models.tsn.TSN`
computes inside ``forward`` and what a TSN exported to ONNX is given as its ``flow`` input."""

from __future__ import annotations

import cv2
import numpy as np

from dfer.errors import InputError


def farneback_flow(frames: np.ndarray) -> np.ndarray:
    """Dense optical flow between consecutive uint8 grey frames ``(T, H, W)`` → ``(T − 1, 2, H, W)``.

    Channel 0 is the horizontal and channel 1 the vertical displacement in pixels, from frame t to
    frame t + 1 (a point at (x, y) in frame t is at (x + u, y + v) in frame t + 1). OpenCV's
    Farneback method with its documented default parameters (pyramid scale 0.5, 3 levels,
    window 15, 3 iterations, polynomial neighbourhood 5, σ 1.2).
    """
    if frames.ndim != 3 or frames.dtype != np.uint8 or len(frames) < 2:
        raise InputError(f"expected at least 2 uint8 grey frames (T, H, W), got {frames.dtype} {frames.shape}")
    flows = [cv2.calcOpticalFlowFarneback(previous, following, None, 0.5, 3, 15, 3, 5, 1.2, 0)
             for previous, following in zip(frames[:-1], frames[1:])]
    return np.stack(flows).transpose(0, 3, 1, 2)


def stacked_flow(snippets: np.ndarray, bound: float) -> np.ndarray:
    """``(B, C, K, L + 1, H, W)`` snippets of any normalisation → ``(B, K, 2L, H, W)`` float32 flow.

    The flow is computed on a grey version of each clip (the channel mean, stretched to 0–255 over
    the clip's K snippets and rounded to uint8; a per-clip affine change of intensity, which the
    flow does not depend on), then the L fields of each snippet are stacked x, y (x₁, y₁, x₂, …),
    truncated to ±``bound`` pixels and divided by it.
    """
    batch, _, segments, length, height, width = snippets.shape
    grey = snippets.astype(np.float32).mean(axis=1).reshape(batch, -1)
    low, high = grey.min(axis=1, keepdims=True), grey.max(axis=1, keepdims=True)
    grey = np.rint((grey - low) / np.maximum(high - low, np.float32(1e-6)) * np.float32(255)).astype(np.uint8)
    flows = np.stack([farneback_flow(snippet) for snippet in grey.reshape(batch * segments, length, height, width)])
    bound = np.float32(bound)
    return (np.clip(flows, -bound, bound) / bound).reshape(batch, segments, 2 * (length - 1), height, width)
