"""Interval overlaps against their definitions, element by element, and ActivityNet's arithmetic."""

import numpy as np
import pytest

from dfer.metrics.temporal import frame_iou, segment_ioa, segment_iou


def literal_tiou(candidate, segment) -> float:
    """ActivityNet's segment_iou for one pair, written out (0 for an empty union)."""
    inter = max(0.0, min(candidate[1], segment[1]) - max(candidate[0], segment[0]))
    union = (candidate[1] - candidate[0]) + (segment[1] - segment[0]) - inter
    return inter / union if union > 0 else 0.0


def test_segment_iou_equals_the_pairwise_definition():
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 20, (30, 2)) * 0.5  # a coarse grid: touching, nested, equal and empty segments
    candidates = np.sort(starts, axis=1)
    segments = np.sort(rng.integers(0, 20, (7, 2)) * 0.5, axis=1)
    values = segment_iou(candidates, segments)
    assert values.shape == (30, 7)
    expected = [[literal_tiou(c, s) for s in segments] for c in candidates]
    assert np.array_equal(values, np.array(expected))  # the same operations: equal to the last bit
    assert segment_iou(candidates.reshape(5, 6, 2), segments).shape == (5, 6, 7)  # any leading shape


def test_segment_iou_by_hand():
    assert segment_iou([0.0, 2.0], [[1.0, 3.0]])[0] == pytest.approx(1 / 3)
    assert segment_iou([0.0, 1.0], [[1.0, 2.0], [0.0, 1.0], [5.0, 5.0]]).tolist() == [0.0, 1.0, 0.0]


def test_segment_ioa_is_the_share_of_the_candidate_inside():
    assert segment_ioa([[0.0, 4.0], [2.0, 2.0]], [[1.0, 2.0], [3.0, 9.0]]).tolist() == [[0.25, 0.25], [0.0, 0.0]]


def test_frame_iou_counts_inclusive_frames():
    assert frame_iou((10, 19), [(15, 24)])[0] == pytest.approx(5 / 15)
    assert frame_iou((3, 3), [(3, 3), (4, 4)]).tolist() == [1.0, 0.0]  # one frame is a whole interval
    rng = np.random.default_rng(1)
    a = np.sort(rng.integers(0, 40, (20, 2)), axis=1)
    b = np.sort(rng.integers(0, 40, (9, 2)), axis=1)
    sets = lambda interval: set(range(interval[0], interval[1] + 1))  # noqa: E731
    expected = [[len(sets(x) & sets(y)) / len(sets(x) | sets(y)) for y in b] for x in a]
    assert np.allclose(frame_iou(a, b), expected, rtol=0, atol=1e-15)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\[start, end\] rows"):
        segment_iou(np.zeros((4, 3)), [[0, 1]])
