"""Expression segments from a per-frame probability sequence: smoothing, then an HMM (Viterbi).

Per track, the 7 expression probabilities over time are

1. **smoothed** with a centred moving average of ``smooth_seconds`` (default 0.25 s), which removes
   frame-to-frame flicker of a per-frame classifier;
2. **decoded** with Viterbi over a hidden Markov model whose states are the 7 expressions: the
   emission score of state k at frame t is the smoothed probability p_t(k) (used as a likelihood),
   and the chain stays in its state with probability ``1 − 1/(fps · min_seconds)`` per frame and
   otherwise moves to any other state uniformly, so that a state is expected to last at least
   ``min_seconds`` (default 0.5 s); switching costs ``log`` of that ratio, so a short blip must be
   strong to open a segment;
3. **cut** into runs of one state. A segment reports its label, onset and offset (frame index and
   seconds), the time of its peak (the frame where its label's smoothed probability is highest),
   and its confidence (the mean smoothed probability of its label over the segment). Runs shorter
   than ``min_seconds`` that Viterbi still keeps (very confident blips) are kept and flagged
   ``short``.

Frames without the face (gaps in a track) are not interpolated: segments never span a gap longer
than ``max_gap_seconds``; a longer gap splits the track into independent pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dfer import labels

SEGMENT_COLUMNS = ["track", "label", "onset_frame", "offset_frame", "onset", "offset", "duration",
                   "peak", "confidence", "short"]


@dataclass(frozen=True)
class SegmentOptions:
    """Parameters of :func:`segments` (see the module docstring)."""

    smooth_seconds: float = 0.25
    min_seconds: float = 0.5
    max_gap_seconds: float = 1.0


def smooth(probabilities: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` frames (shrunk at the ends), rows renormalised."""
    if window <= 1 or len(probabilities) < 2:
        return probabilities.copy()
    half = window // 2
    cumulative = np.vstack([np.zeros((1, probabilities.shape[1])), np.cumsum(probabilities, axis=0)])
    index = np.arange(len(probabilities))
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, len(probabilities))
    averaged = (cumulative[high] - cumulative[low]) / (high - low)[:, None]
    return averaged / averaged.sum(axis=1, keepdims=True)


def viterbi(emissions: np.ndarray, stay: float) -> np.ndarray:
    """Most likely state path of an HMM with uniform start, self-transition ``stay`` and uniform
    switching, for emission likelihoods ``(T, K)``."""
    frames, states = emissions.shape
    log_emission = np.log(np.clip(emissions, 1e-12, None))
    log_stay, log_switch = np.log(stay), np.log((1 - stay) / (states - 1))
    score = log_emission[0] - np.log(states)
    back = np.zeros((frames, states), np.int64)
    for t in range(1, frames):
        # each state comes from itself (stay) or from the best *other* state (switch)
        order = np.argsort(score)
        best_other = np.full(states, order[-1])
        best_other[order[-1]] = order[-2]
        from_other = score[best_other] + log_switch
        from_self = score + log_stay
        back[t] = np.where(from_self >= from_other, np.arange(states), best_other)
        score = np.maximum(from_self, from_other) + log_emission[t]
    path = np.empty(frames, np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(frames - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def segments(frames: pd.DataFrame, fps: float, options: SegmentOptions = SegmentOptions()) -> pd.DataFrame:
    """Segments of every track in a per-frame table with ``track, frame, time`` and one probability
    column per expression (canonical names); columns :data:`SEGMENT_COLUMNS`."""
    rows = []
    fps = fps if fps and fps > 0 else 25.0
    window = max(int(round(options.smooth_seconds * fps)), 1)
    stay = 1.0 - 1.0 / max(options.min_seconds * fps, 2.0)
    for track, table in frames.sort_values("frame").groupby("track"):
        frame_index = table.frame.to_numpy()
        breaks = np.flatnonzero(np.diff(frame_index) > options.max_gap_seconds * fps) + 1
        for piece in np.split(np.arange(len(table)), breaks):
            part = table.iloc[piece]
            smoothed = smooth(part[list(labels.EXPRESSIONS)].to_numpy(np.float64), window)
            path = viterbi(smoothed, stay)
            starts = np.flatnonzero(np.r_[True, path[1:] != path[:-1]])
            ends = np.r_[starts[1:], len(path)]
            for start, end in zip(starts, ends):
                label = int(path[start])
                span = smoothed[start:end, label]
                peak = start + int(np.argmax(span))
                onset, offset = float(part.time.iat[start]), float(part.time.iat[end - 1])
                rows.append({"track": int(track), "label": labels.EXPRESSIONS[label],
                             "onset_frame": int(part.frame.iat[start]), "offset_frame": int(part.frame.iat[end - 1]),
                             "onset": onset, "offset": offset, "duration": offset - onset + 1.0 / fps,
                             "peak": float(part.time.iat[peak]), "confidence": float(span.mean()),
                             "short": bool((end - start) < options.min_seconds * fps)})
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
