"""Segments: smoothing, Viterbi against brute force, and segment boundaries on made-up sequences."""

import itertools

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.predict.segments import SEGMENT_COLUMNS, SegmentOptions, segments, smooth, viterbi


def brute_force(emissions, stay):
    frames, states = emissions.shape
    switch = (1 - stay) / (states - 1)
    best, best_path = -np.inf, None
    for path in itertools.product(range(states), repeat=frames):
        score = np.log(1 / states) + np.log(emissions[0, path[0]])
        for t in range(1, frames):
            score += np.log(stay if path[t] == path[t - 1] else switch) + np.log(emissions[t, path[t]])
        if score > best:
            best, best_path = score, path
    return np.array(best_path)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("stay", [0.3, 0.6, 0.9])
def test_viterbi_matches_brute_force(seed, stay):
    emissions = np.random.default_rng(seed).dirichlet(np.ones(3), size=6)
    assert viterbi(emissions, stay).tolist() == brute_force(emissions, stay).tolist()


def test_smooth_is_a_centred_moving_average():
    probabilities = np.eye(3)[[0, 0, 1, 0, 0]]
    smoothed = smooth(probabilities, 3)
    assert np.allclose(smoothed[2], [2 / 3, 1 / 3, 0])
    assert np.allclose(smoothed[0], [1, 0, 0])  # window shrinks at the ends
    assert np.allclose(smoothed.sum(axis=1), 1)


def table(sequence, fps=10, track=0, start=0):
    """Per-frame table where frame t is confidently ``sequence[t]`` (an expression name)."""
    probabilities = np.full((len(sequence), 7), 0.05)
    for t, name in enumerate(sequence):
        probabilities[t, labels.EXPRESSIONS.index(name)] = 0.7
    frame = pd.DataFrame(probabilities, columns=list(labels.EXPRESSIONS))
    frame.insert(0, "frame", np.arange(start, start + len(sequence)))
    frame.insert(0, "time", frame.frame / fps)
    frame.insert(0, "track", track)
    return frame


def test_neutral_then_happy_gives_two_segments_at_the_change():
    result = segments(table(["neutral"] * 12 + ["happy"] * 20), fps=10)
    assert list(result.columns) == SEGMENT_COLUMNS
    assert result.label.tolist() == ["neutral", "happy"]
    assert result.onset_frame.tolist() == [0, 12] and result.offset_frame.tolist() == [11, 31]
    assert result.onset.iloc[1] == pytest.approx(1.2) and result.duration.iloc[1] == pytest.approx(2.0)
    assert not result.short.any() and (result.confidence > 0.5).all()


def test_a_one_frame_blip_does_not_open_a_segment():
    result = segments(table(["neutral"] * 10 + ["angry"] + ["neutral"] * 10), fps=10)
    assert result.label.tolist() == ["neutral"]


def test_tracks_and_long_gaps_are_segmented_apart():
    frames = pd.concat([table(["sad"] * 10), table(["happy"] * 10, track=1),
                        table(["sad"] * 10, start=40)])
    result = segments(frames, fps=10, options=SegmentOptions(max_gap_seconds=1.0))
    assert result[result.track == 0].onset_frame.tolist() == [0, 40]  # the 3 s gap splits track 0
    assert result[result.track == 1].label.tolist() == ["happy"]


def test_no_frames_no_segments():
    assert segments(table([])[:0], fps=10).empty
