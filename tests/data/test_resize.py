"""The NumPy resize of the test transform: bit for bit torchvision's antialiased uint8 resize."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dfer.data.resize import resize_uint8
from dfer.data.transforms import Resize


@pytest.mark.parametrize("seed", range(4))
def test_resize_is_torchs_uint8_antialiased_bilinear(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        (height, width), size = rng.integers(1, 120, 2), tuple(int(side) for side in rng.integers(1, 120, 2))
        images = rng.integers(0, 256, (2, height, width, 3), dtype=np.uint8)
        expected = F.interpolate(torch.from_numpy(images).permute(0, 3, 1, 2), size=size, mode="bilinear",
                                 align_corners=False, antialias=True).permute(0, 2, 3, 1).numpy()
        np.testing.assert_array_equal(resize_uint8(images, size), expected, err_msg=f"{(height, width)} → {size}")


def test_resize_matches_the_test_transform_and_keeps_same_size_images():
    images = np.random.default_rng(0).integers(0, 256, (3, 60, 52, 3), dtype=np.uint8)
    clip = torch.from_numpy(images).permute(0, 3, 1, 2)  # (T, C, H, W) as VideoModel hands it over
    np.testing.assert_array_equal(resize_uint8(images, (48, 48)), Resize(48)(clip).permute(0, 2, 3, 1).numpy())
    assert resize_uint8(images, (60, 52)) is images
