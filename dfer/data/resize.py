"""The test transform's resize in NumPy, without torch: torchvision's antialiased bilinear resize of
uint8 images (:class:`dfer.data.transforms.Resize`), reproduced exactly.

PyTorch resizes uint8 images as Pillow-SIMD does, in fixed point: per output pixel, the weights of a
triangle filter stretched by the downscaling factor (``_compute_indices_weights_aa`` in ATen's
``UpSampleKernel.cpp``), normalised, then scaled by 2^p and rounded to int16 (p as large as
int16 allows for the largest weight); each pass sums pixel × weight, adds 2^(p−1), shifts right by p
and clips to 0–255; width first, then height, and only along axes whose size changes. The test
transform calls this ATen kernel on every CPU (torchvision alone would resize in float where
PyTorch's CPU capability is below AVX2, one grey level off).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def resize_weights(input_size: int, output_size: int) -> tuple[np.ndarray, int]:
    """The int16 weights ``(output_size, input_size)`` (as float64, exact integers) of one axis and
    their precision p."""
    scale = input_size / output_size
    support = scale if scale >= 1 else 1.0
    inverse = 1.0 / scale if scale >= 1 else 1.0
    weights = np.zeros((output_size, input_size))
    for i in range(output_size):
        center = scale * (i + 0.5)
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), input_size)
        row = [max(0.0, 1.0 - abs((j - center + 0.5) * inverse)) for j in range(low, high)]
        total = 0.0
        for value in row:  # summed in order, as ATen does
            total += value
        weights[i, low:high] = [value / total for value in row] if total != 0 else row
    largest = float(weights.max())
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    return np.floor(0.5 + weights * (1 << precision)), precision


def _resize_axis(images: np.ndarray, axis: int, size: int) -> np.ndarray:
    """``images`` (uint8) resized along ``axis`` to ``size``, one fixed-point pass."""
    if images.shape[axis] == size:
        return images
    weights, precision = resize_weights(images.shape[axis], size)
    moved = np.moveaxis(images, axis, -1).astype(np.float64)
    sums = (moved @ weights.T).astype(np.int64)  # exact: integer products and sums below 2^53
    result = np.clip((sums + (1 << (precision - 1))) >> precision, 0, 255).astype(np.uint8)
    return np.moveaxis(result, -1, axis)


def resize_uint8(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 images ``(…, H, W, C)`` resized to ``size`` = (height, width), antialiased bilinear,
    bit-identical to torchvision's ``resize(…, antialias=True)`` on uint8 (see the module docstring)."""
    height, width = size
    return _resize_axis(_resize_axis(images, images.ndim - 2, width), images.ndim - 3, height)
