"""Alignment: the least-squares similarity and the warp, against exact constructions."""

import numpy as np
import pytest

from dfer.faces.align import TEMPLATE_5, alignment_matrix, five_points, roll, similarity_transform, template_points, warp


def similarity(angle, scale, shift):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[scale * c, -scale * s, shift[0]], [scale * s, scale * c, shift[1]]])


@pytest.mark.parametrize("angle, scale, shift", [(0.0, 1.0, (0, 0)), (0.3, 2.5, (10, -4)), (-2.0, 0.4, (3, 7))])
def test_an_exact_similarity_is_recovered(angle, scale, shift):
    points = np.random.default_rng(1).uniform(-50, 50, (12, 2))
    matrix = similarity(angle, scale, shift)
    moved = points @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(similarity_transform(points, moved), matrix, atol=1e-9)


def test_a_mirror_image_is_fitted_by_a_rotation_not_a_reflection():
    points = np.random.default_rng(2).uniform(-1, 1, (8, 2))
    mirrored = points * [-1, 1]
    linear = similarity_transform(points, mirrored)[:, :2]
    assert np.linalg.det(linear) > 0


def test_landmarks_land_on_the_template():
    """Landmarks whose five points are an exact similarity of the template map onto it exactly."""
    landmarks = np.random.default_rng(3).uniform(0, 300, (68, 2))
    truth = similarity(0.2, 1.7, (5, 9))
    exact = TEMPLATE_5 * 100 @ truth[:, :2].T + truth[:, 2]
    landmarks[36:42], landmarks[42:48] = exact[0], exact[1]  # eye centres are the means of 6 points
    landmarks[30], landmarks[48], landmarks[54] = exact[2], exact[3], exact[4]
    matrix = alignment_matrix(landmarks, 224)
    assert np.allclose(five_points(landmarks) @ matrix[:, :2].T + matrix[:, 2], template_points(224), atol=1e-6)


def test_warp_follows_pixel_centres():
    image = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    assert np.array_equal(warp(image, similarity(0, 1, (0, 0)), (40, 50)), image)
    shifted = warp(image, similarity(0, 1, (3, 2)), (40, 50))
    assert np.array_equal(shifted[2:, 3:], image[:-2, :-3])
    doubled = warp(image, similarity(0, 2, (0, 0)), (80, 100))
    assert np.array_equal(doubled[::2, ::2][:39, :49], image[:39, :49])


@pytest.mark.parametrize("degrees", [0.0, 30.0, -45.0, 170.0])
def test_roll_is_the_angle_of_the_eye_line(degrees):
    landmarks = np.zeros((68, 2))
    angle = np.radians(degrees)
    landmarks[36:42] = (100.0, 100.0)  # the subject's right eye, on the image's left
    landmarks[42:48] = (100.0 + 40 * np.cos(angle), 100.0 + 40 * np.sin(angle))
    assert roll(landmarks) == pytest.approx(degrees)
