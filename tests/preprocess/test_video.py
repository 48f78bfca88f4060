"""Scene resizing of the preprocess writer."""

import cv2
import numpy as np
import pytest

from dfer.preprocess.video import shrink_to


def test_a_whole_ratio_is_one_area_averaging_step():
    image = np.random.default_rng(0).integers(0, 256, (1008, 1512, 3), np.uint8)
    assert np.array_equal(shrink_to(image, (336, 504)),
                          cv2.resize(image, (504, 336), interpolation=cv2.INTER_AREA))


def test_another_big_reduction_is_halved_first():
    image = np.random.default_rng(2).integers(0, 256, (1080, 1920, 3), np.uint8)
    halved = cv2.resize(image, (960, 540), interpolation=cv2.INTER_AREA)
    assert np.array_equal(shrink_to(image, (336, 504)),
                          cv2.resize(halved, (504, 336), interpolation=cv2.INTER_LINEAR))


def test_a_big_reduction_averages_before_sampling():
    stripes = np.zeros((1080, 1920, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: plain bilinear sampling keeps them at nearly full contrast
    small = shrink_to(stripes, (336, 504))
    assert small.shape == (336, 504, 3)
    assert np.ptp(small) <= 2  # averaged away, not sampled


@pytest.mark.parametrize("shape", [(360, 640, 3), (200, 300, 3)])
def test_under_twice_the_size_or_up_is_bilinear(shape):
    image = np.random.default_rng(1).integers(0, 256, shape, np.uint8)
    assert np.array_equal(shrink_to(image, (336, 504)),
                          cv2.resize(image, (504, 336), interpolation=cv2.INTER_LINEAR))
