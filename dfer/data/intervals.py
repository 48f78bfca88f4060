"""SDFE-LV's labels for long videos: several annotators' ``[[onset, offset, category], …]`` lists
decoded to frame level, max-voted per frame and stored again as intervals.

Frames are indices with inclusive onset and offset; categories are SDFE-LV codes 1..6 (anger,
disgust, fear, happy, sad, surprise) and 0 means no expression. Each annotator casts one vote per
frame (0 where they marked nothing). **Tie rule** (the paper does not give one): when "no
expression" is among the most-voted it wins — an expression needs a strict plurality; among tied
expressions the one the tied annotators gave most frames to over the whole video wins, then the
lower code. The final intervals are the runs of one non-zero category.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

NO_EXPRESSION = 0
CATEGORIES = range(1, 7)


def frame_labels(intervals, length: int, who: str = "annotator") -> np.ndarray:
    """One annotator's intervals as a ``(length,)`` array of codes (0 = none); intervals outside the
    video, reversed, with an unknown category or overlapping another of a different category raise."""
    codes = np.zeros(length, np.int64)
    for index, interval in enumerate(intervals):
        if len(interval) != 3:
            raise ValueError(f"{who}, interval {index}: expected [onset, offset, category], got {interval!r}")
        onset, offset, category = (int(v) for v in interval)
        if category not in CATEGORIES:
            raise ValueError(f"{who}, interval {index}: category {category} is not one of 1..6")
        if not 0 <= onset <= offset < length:
            raise ValueError(f"{who}, interval {index}: [{onset}, {offset}] is not inside frames 0..{length - 1}")
        span = codes[onset:offset + 1]
        clash = span[(span != NO_EXPRESSION) & (span != category)]
        if clash.size:
            raise ValueError(f"{who}, interval {index}: overlaps another interval of category {int(clash[0])}")
        span[:] = category
    return codes


def max_vote(codes: np.ndarray) -> np.ndarray:
    """Per-frame max-voting of ``(annotators, frames)`` codes with the module's tie rule."""
    codes = np.asarray(codes)
    votes = np.stack([(codes == c).sum(axis=0) for c in range(7)])  # (7, frames)
    best = votes.max(axis=0)
    winner = np.full(codes.shape[1], NO_EXPRESSION)
    totals = (codes[:, :, None] == np.arange(7)).sum(axis=1)  # (annotators, 7): frames given per code
    for frame in np.flatnonzero(votes[NO_EXPRESSION] < best):
        tied = np.flatnonzero(votes[:, frame] == best[frame])
        if tied.size == 1:
            winner[frame] = tied[0]
            continue
        # the expression its voters gave most frames to over the video, then the lower code
        winner[frame] = max(tied, key=lambda c: (totals[codes[:, frame] == c, c].sum(), -c))
    return winner


def to_intervals(codes: np.ndarray) -> list[list[int]]:
    """Runs of one non-zero code as ``[[onset, offset, category], …]``."""
    codes = np.asarray(codes)
    result = []
    change = np.flatnonzero(np.diff(codes)) + 1
    for start, end in zip(np.r_[0, change], np.r_[change, len(codes)]):
        if codes[start] != NO_EXPRESSION:
            result.append([int(start), int(end - 1), int(codes[start])])
    return result


def aggregate_intervals(annotations: dict, length: int) -> tuple[list[list[int]], dict]:
    """The final intervals of one video from ``{annotator: [[onset, offset, category], …]}``, with
    agreement: mean pairwise frame IoU between annotators (category-blind and category-aware)."""
    if not annotations:
        raise ValueError("no annotations")
    names = list(annotations)
    codes = np.stack([frame_labels(annotations[name], length, who=str(name)) for name in names])
    final = to_intervals(max_vote(codes))
    blind, aware = [], []
    for a, b in combinations(range(len(names)), 2):  # frame IoU of the two annotators' marked frames
        marked = (codes[a] != NO_EXPRESSION) | (codes[b] != NO_EXPRESSION)
        both = (codes[a] != NO_EXPRESSION) & (codes[b] != NO_EXPRESSION)
        same = (codes[a] == codes[b]) & (codes[a] != NO_EXPRESSION)
        blind.append(1.0 if not marked.any() else both.sum() / marked.sum())
        aware.append(1.0 if not marked.any() else same.sum() / marked.sum())
    agreement = {"annotators": len(names), "pairs": len(blind),
                 "mean_iou": float(np.mean(blind)) if blind else float("nan"),
                 "mean_iou_same_category": float(np.mean(aware)) if aware else float("nan")}
    return final, agreement


def aggregate_videos(videos: dict) -> dict:
    """:func:`aggregate_intervals` for every video of ``{video: {"frames": N, "annotations":
    {annotator: [[onset, offset, category], …]}}}`` → ``{video: {"frames", "intervals", "agreement"}}``."""
    final = {}
    for video, entry in videos.items():
        intervals, agreement = aggregate_intervals(entry["annotations"], int(entry["frames"]))
        final[video] = {"frames": entry["frames"], "intervals": intervals, "agreement": agreement}
    return final
