"""Tests for dfer.data.tim: the closed form against the literal TIM recipe (Zhou et al. 2011), and edge cases."""

import numpy as np
import pytest
import scipy.linalg

from dfer.data.tim import tim, tim_frames_uint8


def literal_tim(frames: np.ndarray, k: int) -> np.ndarray:
    """TIM step by step: SVD, path-graph Laplacian, eig of (YYᵀ)⁻¹YLYᵀ, scales, x(t)."""
    num_frames = len(frames)
    data = frames.reshape(num_frames, -1).T.astype(np.float64)
    mean = data.mean(axis=1, keepdims=True)
    left, singular, right_t = np.linalg.svd(data - mean, full_matrices=False)
    left, singular, right_t = left[:, : num_frames - 1], singular[: num_frames - 1], right_t[: num_frames - 1]
    embedding = singular[:, None] * right_t
    adjacency = np.eye(num_frames, k=1) + np.eye(num_frames, k=-1)
    laplacian = np.diag(adjacency.sum(axis=1)) - adjacency
    problem = np.linalg.solve(embedding @ embedding.T, embedding @ laplacian @ embedding.T)
    eigenvalues, eigenvectors = scipy.linalg.eig(problem)
    order = np.argsort(eigenvalues.real)
    eigenvectors = eigenvectors[:, order].real
    orders = np.arange(1, num_frames)
    phases = np.pi * (num_frames - orders) / (2 * num_frames)
    scales = (embedding[:, 0] @ eigenvectors) / np.sin(orders * np.pi / num_frames + phases)
    times = np.linspace(1 / num_frames, 1, k)
    curves = np.sin(np.pi * np.outer(times, orders) + phases)
    new = left @ np.linalg.solve(eigenvectors.T, (curves * scales).T) + mean
    return new.T.reshape((k,) + frames.shape[1:])


def smooth_video(num_frames: int, size: int = 12) -> np.ndarray:
    """A moving, brightening blob as uint8 frames (num_frames, size, size, 3)."""
    grid = np.arange(size)
    frames = []
    for step in range(num_frames):
        centre = 2 + (size - 4) * step / max(num_frames - 1, 1)
        blob = np.exp(-((grid[:, None] - centre) ** 2 + (grid[None, :] - size / 2) ** 2) / 8)
        frames.append(np.stack([blob * (120 + 4 * step), blob * 200, blob * 90 + 30], axis=-1))
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("num_frames", [2, 3, 5, 16, 40])
@pytest.mark.parametrize("k", [2, 7, 16, 33])
def test_matches_literal_recipe(num_frames, k):
    frames = np.random.default_rng(num_frames * 100 + k).random((num_frames, 6, 7, 3)) * 255
    np.testing.assert_allclose(tim(frames, k), literal_tim(frames, k), rtol=0, atol=1e-9)


@pytest.mark.parametrize("num_frames", [2, 3, 16, 57])
def test_k_equal_n_reproduces_random_input(num_frames):
    frames = np.random.default_rng(num_frames).random((num_frames, 5, 4, 3)) * 255
    assert np.abs(tim(frames, num_frames) - frames).max() < 1e-10 * 255


def test_k_equal_n_reproduces_smooth_video():
    frames = smooth_video(20)
    assert np.abs(tim(frames, 20) - frames).max() < 1e-10 * 255
    np.testing.assert_array_equal(tim_frames_uint8(frames, 20), frames)


@pytest.mark.parametrize(("num_frames", "k"), [(2, 5), (7, 16), (16, 16), (30, 16), (31, 2)])
def test_first_and_last_frames_are_kept(num_frames, k):
    frames = smooth_video(num_frames)
    out = tim(frames, k)
    np.testing.assert_allclose(out[[0, -1]], frames[[0, -1]], rtol=0, atol=1e-9)


def test_single_frame_is_repeated():
    frame = np.random.default_rng(0).integers(0, 256, size=(1, 4, 5, 3), dtype=np.uint8)
    out = tim(frame, 6)
    assert out.shape == (6, 4, 5, 3)
    np.testing.assert_allclose(out, np.repeat(frame, 6, axis=0).astype(np.float64), atol=1e-12)


def test_two_frames_interpolate_between_them():
    frames = np.stack([np.zeros((3, 3)), np.full((3, 3), 10.0)])
    out = tim(frames, 5)
    np.testing.assert_allclose(out[[0, -1]], frames, atol=1e-12)
    middle = out[:, 0, 0]
    assert np.all(np.diff(middle) > 0)
    np.testing.assert_allclose(middle[2], 5.0, atol=1e-12)


def test_identical_frames_give_the_frame_back():
    frames = np.repeat(np.random.default_rng(1).random((1, 4, 4, 3)), 9, axis=0)
    out = tim(frames, 16)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, np.repeat(frames[:1], 16, axis=0), atol=1e-12)


def test_duplicated_frames_do_not_break_interpolation():
    frames = smooth_video(6)[[0, 1, 1, 2, 3, 3, 4, 5]]
    out = tim(frames, 8)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, frames, atol=1e-9)


def test_interpolated_curve_passes_through_the_samples():
    frames = np.random.default_rng(2).random((10, 3, 3))
    out = tim(frames, 10 * 9 + 1)  # t = 0.1 + j/100: every 10th output falls on an input time
    np.testing.assert_allclose(out[::10], frames, atol=1e-10)


@pytest.mark.parametrize("num_frames", [3, 8, 25])
@pytest.mark.parametrize("k", [16, 50])
def test_linear_ramp_stays_ordered_and_in_range(num_frames, k):
    frames = np.broadcast_to(np.arange(num_frames, dtype=float)[:, None, None], (num_frames, 2, 2))
    values = tim(frames, k)[:, 0, 0]
    assert values.min() >= -1e-9 and values.max() <= num_frames - 1 + 1e-9
    assert np.all(np.diff(values) > 0)


def test_k_one_gives_the_temporal_centre():
    frames = np.arange(5, dtype=float).reshape(5, 1, 1)
    np.testing.assert_allclose(tim(frames, 1).ravel(), [2.0], atol=1e-12)


@pytest.mark.parametrize("shape", [(7, 4, 5), (7, 4, 5, 3), (7, 4, 5, 1)])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
def test_shape_and_dtype(shape, dtype):
    frames = np.ones(shape, dtype=dtype)
    out = tim(frames, 16)
    assert out.shape == (16,) + shape[1:]
    assert out.dtype == np.float64


def test_uint8_helper_rounds_and_clips():
    frames = np.stack([np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)] * 3)
    out = tim_frames_uint8(frames, 11)
    assert out.dtype == np.uint8 and out.shape == (11, 2, 2)
    np.testing.assert_array_equal(out[[0, -1]], frames[[0, -1]])


@pytest.mark.parametrize(
    ("frames", "k", "message"),
    [
        (np.zeros((3, 4, 4)), 0, "k must be a positive integer"),
        (np.zeros((3, 4, 4)), 2.5, "k must be a positive integer"),
        (np.zeros((3, 4, 4)), True, "k must be a positive integer"),
        (np.zeros((0, 4, 4, 3)), 4, "empty"),
        (np.zeros((3, 4)), 4, r"\(N, H, W\)"),
        (np.zeros((3, 4, 4, 3, 1)), 4, r"\(N, H, W\)"),
        (np.full((3, 4, 4), "a"), 4, "real numbers"),
    ],
)
def test_bad_inputs_raise(frames, k, message):
    with pytest.raises(ValueError, match=message):
        tim(frames, k)


def test_long_full_size_clip_completes():
    frames = np.random.default_rng(3).integers(0, 256, size=(300, 224, 224, 3), dtype=np.uint8)
    out = tim(frames, 16)
    assert out.shape == (16, 224, 224, 3)
    np.testing.assert_allclose(out[[0, -1]], frames[[0, -1]], atol=1e-6)
