"""Tests for dfer.data.sampling: index ranges, shapes, order, determinism and documented centres."""

import numpy as np
import pytest

from dfer.data.sampling import SAMPLERS, ceflnet_indices, make_sampler, segment_indices, uniform_indices

CLIP_LENGTHS = [1, 3, 7, 15, 16, 105, 847]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def check_indices(indices: np.ndarray, num_frames: int, shape: tuple[int, ...]) -> None:
    assert indices.dtype == np.int64
    assert indices.shape == shape
    assert indices.min() >= 0 and indices.max() <= num_frames - 1


# uniform ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_frames", CLIP_LENGTHS)
@pytest.mark.parametrize("k", [1, 8, 16])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_uniform_range_count_and_order(num_frames, k, mode):
    indices = uniform_indices(num_frames, k, mode, rng(num_frames))
    check_indices(indices, num_frames, (k,))
    assert np.all(np.diff(indices) >= 0)


@pytest.mark.parametrize(("num_frames", "k", "expected"), [
    (16, 16, list(range(16))),
    (32, 8, [2, 6, 10, 14, 18, 22, 26, 30]),
    (80, 8, [5, 15, 25, 35, 45, 55, 65, 75]),
    (1, 4, [0, 0, 0, 0]),
    (3, 8, [0, 0, 0, 1, 1, 2, 2, 2]),
    (7, 16, [0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6]),
])
def test_uniform_test_mode_takes_segment_centres(num_frames, k, expected):
    np.testing.assert_array_equal(uniform_indices(num_frames, k, "test"), expected)
    centres = np.floor((np.arange(k) + 0.5) * num_frames / k)
    np.testing.assert_array_equal(uniform_indices(num_frames, k, "test"), centres)


def test_uniform_train_picks_one_frame_per_segment():
    for seed in range(50):
        indices = uniform_indices(847, 8, "train", rng(seed))
        segment_starts = np.arange(8) * 847 / 8
        assert np.all(indices + 1 > segment_starts) and np.all(indices < segment_starts + 847 / 8)


def test_uniform_train_is_seeded_and_varies():
    first = uniform_indices(847, 16, "train", rng(1))
    np.testing.assert_array_equal(first, uniform_indices(847, 16, "train", rng(1)))
    assert not np.array_equal(first, uniform_indices(847, 16, "train", rng(2)))


def test_uniform_train_covers_each_segment():
    seen = np.concatenate([uniform_indices(40, 4, "train", rng(seed)) for seed in range(400)])
    assert set(seen) == set(range(40))


# segments --------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_frames", CLIP_LENGTHS)
@pytest.mark.parametrize(("segments", "length"), [(1, 16), (3, 8), (8, 1), (4, 5)])
@pytest.mark.parametrize("mode", ["train", "test"])
def test_segments_range_shape_and_order(num_frames, segments, length, mode):
    indices = segment_indices(num_frames, segments, length, mode, rng(num_frames))
    check_indices(indices, num_frames, (segments * length,))
    snippets = indices.reshape(segments, length)
    assert np.all(np.diff(snippets, axis=1) >= 0) and np.all(np.diff(snippets, axis=1) <= 1)
    assert np.all(np.diff(snippets[:, 0]) >= 0)
    if num_frames >= segments * length:
        assert np.all(np.diff(indices) >= 0)
        assert np.all(np.diff(snippets, axis=1) == 1)


def test_segments_test_mode_centres_snippets_in_segments():
    # 3 segments of 847: [0, 282), [282, 564), [564, 847); 8-frame snippets centred in each.
    expected = np.concatenate([np.arange(137, 145), np.arange(419, 427), np.arange(701, 709)])
    np.testing.assert_array_equal(segment_indices(847, 3, 8, "test"), expected)


def test_segments_train_snippets_stay_inside_their_segments():
    bounds = np.arange(5) * 847 // 4
    for seed in range(50):
        snippets = segment_indices(847, 4, 16, "train", rng(seed)).reshape(4, 16)
        assert np.all(snippets[:, 0] >= bounds[:-1]) and np.all(snippets[:, -1] < bounds[1:])


@pytest.mark.parametrize(("num_frames", "expected"), [
    (1, [0] * 8),
    (3, [0, 0, 0, 0, 1, 2, 2, 2]),
    (7, [0, 0, 1, 2, 3, 4, 5, 6]),
])
def test_segments_short_clip_repeats_edge_frames(num_frames, expected):
    np.testing.assert_array_equal(segment_indices(num_frames, 1, 8, "test"), expected)


def test_segments_train_is_seeded_and_varies():
    first = segment_indices(847, 4, 8, "train", rng(1))
    np.testing.assert_array_equal(first, segment_indices(847, 4, 8, "train", rng(1)))
    assert not np.array_equal(first, segment_indices(847, 4, 8, "train", rng(2)))


# ceflnet ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_frames", CLIP_LENGTHS)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_ceflnet_shape_range_and_order(num_frames, mode):
    indices = ceflnet_indices(num_frames, mode, rng(num_frames))
    check_indices(indices, num_frames, (7, 5))
    assert np.all(np.diff(indices, axis=1) >= 0)
    assert np.all(np.diff(indices[:, 0]) >= 0)


def test_ceflnet_sub_videos_overlap_by_five_frames():
    for mode, generator in [("test", None), ("train", rng(3))]:
        full = ceflnet_indices(105, mode, generator, per_clip=15)  # every frame of each sub-video
        assert full.shape == (7, 15)
        assert np.all(np.diff(full, axis=1) == 1)
        for left, right in zip(full[:-1], full[1:]):
            assert len(np.intersect1d(left, right)) == 5
            np.testing.assert_array_equal(left[10:], right[:5])
        assert full[-1, -1] - full[0, 0] + 1 == 75


def test_ceflnet_window_starts_within_first_30_frames():
    starts = {int(ceflnet_indices(105, "train", rng(seed), per_clip=15)[0, 0]) for seed in range(600)}
    assert starts == set(range(30))


def test_ceflnet_test_mode_is_centred_and_deterministic():
    indices = ceflnet_indices(105, "test")
    sub_video_starts = 15 + 10 * np.arange(7)
    np.testing.assert_array_equal(indices, sub_video_starts[:, None] + np.array([1, 4, 7, 10, 13]))
    np.testing.assert_array_equal(indices, ceflnet_indices(105, "test"))


def test_ceflnet_train_picks_one_frame_per_sub_segment():
    for seed in range(30):
        indices = ceflnet_indices(105, "train", rng(seed))
        aligned = indices - 10 * np.arange(7)[:, None]  # undo the sub-video stride
        assert np.all(aligned.max(axis=0) - aligned.min(axis=0) <= 2)  # one 3-frame sub-segment
        assert np.all(aligned[:, 1:].min(axis=0) > aligned[:, :-1].max(axis=0))
        assert aligned.min() <= 29 + 2 and aligned.max() - aligned.min() <= 14


def test_ceflnet_train_is_seeded_and_varies():
    first = ceflnet_indices(847, "train", rng(1))
    np.testing.assert_array_equal(first, ceflnet_indices(847, "train", rng(1)))
    assert not np.array_equal(first, ceflnet_indices(847, "train", rng(2)))


def test_ceflnet_maps_clips_onto_105_frames():
    np.testing.assert_array_equal(ceflnet_indices(209, "test"), 2 * ceflnet_indices(105, "test"))
    np.testing.assert_array_equal(ceflnet_indices(1, "test"), np.zeros((7, 5)))


def test_ceflnet_rejects_inconsistent_geometry():
    with pytest.raises(ValueError, match="overruns"):
        ceflnet_indices(105, "test", max_start=40)
    with pytest.raises(ValueError, match="more than the window"):
        ceflnet_indices(105, "test", clips=8)
    with pytest.raises(ValueError, match="overlap"):
        ceflnet_indices(105, "test", overlap=15)


# shared validation and make_sampler ------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda: uniform_indices(10, 4, "val"),
    lambda: segment_indices(10, 2, 3, "eval"),
    lambda: ceflnet_indices(10, "Train"),
])
def test_bad_mode_raises(call):
    with pytest.raises(ValueError, match="mode must be one of"):
        call()


@pytest.mark.parametrize("call", [
    lambda: uniform_indices(10, 4, "train"),
    lambda: segment_indices(10, 2, 3, "train", rng=np.random.RandomState(0)),
    lambda: ceflnet_indices(10, "train"),
])
def test_train_mode_needs_a_generator(call):
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        call()


@pytest.mark.parametrize(("call", "name"), [
    (lambda: uniform_indices(0, 4, "test"), "num_frames"),
    (lambda: uniform_indices(10, 0, "test"), "k"),
    (lambda: segment_indices(10, 2, 0, "test"), "length"),
    (lambda: segment_indices(10, 2.0, 3, "test"), "segments"),
    (lambda: ceflnet_indices(-1, "test"), "num_frames"),
])
def test_non_positive_sizes_raise(call, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        call()


def test_make_sampler_binds_parameters():
    assert set(SAMPLERS) == {"uniform", "segments", "ceflnet"}
    uniform = make_sampler("uniform", k=8)
    np.testing.assert_array_equal(uniform(32, "test"), uniform_indices(32, 8, "test"))
    np.testing.assert_array_equal(uniform(847, "train", rng(4)), uniform_indices(847, 8, "train", rng(4)))
    segments = make_sampler("segments", segments=2, length=4)
    np.testing.assert_array_equal(segments(50, "test", None), segment_indices(50, 2, 4, "test"))
    ceflnet = make_sampler("ceflnet")
    assert ceflnet(60, "train", rng(5)).shape == (7, 5)
    assert make_sampler("ceflnet", clips=5, per_clip=3)(105, "test").shape == (5, 3)


@pytest.mark.parametrize(("name", "params", "message"), [
    ("random", {}, r"unknown sampler 'random'; choose one of \['ceflnet', 'segments', 'uniform'\]"),
    ("uniform", {"k": 8, "stride": 2}, r"takes parameters \['k'\], not \['stride'\]"),
    ("uniform", {}, r"needs parameters \['k'\]"),
    ("segments", {"segments": 2}, r"needs parameters \['length'\]"),
    ("ceflnet", {"frames": 5}, "takes parameters"),
    ("uniform", {"k": 0}, "k must be a positive integer"),
])
def test_make_sampler_errors(name, params, message):
    with pytest.raises(ValueError, match=message):
        make_sampler(name, **params)


def test_test_views_spread_over_the_training_choices_and_view_0_of_1_is_the_centre():
    assert np.array_equal(uniform_indices(100, 4, "test", view=(0, 1)), uniform_indices(100, 4, "test"))
    views = [uniform_indices(100, 4, "test", view=(j, 3)) for j in range(3)]
    assert [v.tolist() for v in views] == [[4, 29, 54, 79], [12, 37, 62, 87], [20, 45, 70, 95]]  # ⌊(i + (j+½)/3)·25⌋
    starts = [segment_indices(90, 3, 4, "test", view=(j, 2))[::4].tolist() for j in range(2)]
    assert starts == [[6, 36, 66], [19, 49, 79]]  # a quarter and three quarters into [0, 26]
    assert np.array_equal(segment_indices(90, 3, 4, "test", view=(0, 1)), segment_indices(90, 3, 4, "test"))
    windows = [int(ceflnet_indices(105, "test", view=(j, 3))[0, 0]) for j in range(3)]
    assert windows[1] == int(ceflnet_indices(105, "test")[0, 0]) and windows[0] < windows[1] < windows[2]
    assert np.array_equal(make_sampler("uniform", k=4)(100, "test", view=(2, 3)), views[2])
    with pytest.raises(ValueError, match="view"):
        uniform_indices(100, 4, "test", view=(3, 3))
