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

from dfer import labels
from dfer.errors import DatasetError, InputError

NO_EXPRESSION = 0
CATEGORIES = range(1, 7)


def category_code(category) -> int:
    """An interval's category as an SDFE-LV code 1..6: the code itself, or an expression name or
    synonym (``happy``, ``Happiness``); anything else raises."""
    if isinstance(category, (int, np.integer)) or (isinstance(category, str) and category.strip().isdigit()):
        code = int(category)
        if code not in CATEGORIES:
            raise InputError(f"category {code} is not one of 1..6")
        return code
    try:
        return labels.to_sdfe_lv(labels.canonical(str(category)))
    except (ValueError, KeyError):
        raise InputError(f"category {category!r} is not an SDFE-LV expression (anger, disgust, fear, happy, sad, "
                         "surprise, or their codes 1–6)") from None


def frame_labels(intervals, length: int, who: str = "annotator") -> np.ndarray:
    """One annotator's intervals as a ``(length,)`` array of codes (0 = none); intervals outside the
    video, reversed, with an unknown category or overlapping another of a different category raise."""
    codes = np.zeros(length, np.int64)
    for index, interval in enumerate(intervals):
        if not isinstance(interval, (list, tuple)) or len(interval) != 3:
            raise InputError(f"{who}, interval {index}: expected [onset, offset, category], got {interval!r}")
        try:
            onset, offset = int(interval[0]), int(interval[1])
            category = category_code(interval[2])
        except (TypeError, ValueError) as error:
            detail = error if isinstance(error, InputError) else "onset and offset must be frame numbers"
            raise InputError(f"{who}, interval {index} {interval!r}: {detail}") from None
        if not 0 <= onset <= offset < length:
            raise InputError(f"{who}, interval {index}: [{onset}, {offset}] is not inside frames 0..{length - 1}")
        span = codes[onset:offset + 1]
        clash = span[(span != NO_EXPRESSION) & (span != category)]
        if clash.size:
            raise InputError(f"{who}, interval {index}: overlaps another interval of category {int(clash[0])}")
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
        raise InputError("no annotations")
    names = list(annotations)
    codes = np.stack([frame_labels(annotations[name], length, who=f"annotator {name!r}") for name in names])
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


def aggregate_file(data: dict, source: str = "annotations") -> dict:
    """The final intervals of every video of an annotation file's contents, in the file's own shape:

    - a ``dfer-long-video`` file (``{"format": "dfer-long-video", "videos": {video: {"frames": N,
      "annotators": {…}, …}}}``) comes back as such a file with each video's ``final`` intervals
      and ``agreement`` filled in;
    - ``{video: {"frames": N, "annotations": {annotator: [[onset, offset, category], …]}}}`` gives
      ``{video: {"frames", "intervals", "agreement"}}``.

    Categories are SDFE-LV codes 1–6 or expression names; the final ones are codes. Every problem
    names ``source``, the video and the annotator."""
    from dfer.data.long_video import FORMAT

    if not isinstance(data, dict):
        raise DatasetError(source, "expected a JSON object of videos")
    long_video = data.get("format") == FORMAT
    videos = data.get("videos") if long_video else data
    if not isinstance(videos, dict) or not videos:
        raise DatasetError(source, "no videos" + (" (expected a 'videos' object)" if long_video else ""))
    result = {}
    for video, entry in videos.items():
        marks = entry.get("annotators" if long_video else "annotations") if isinstance(entry, dict) else None
        if not isinstance(marks, dict) or not marks:
            key = "annotators" if long_video else "annotations"
            raise DatasetError(source, f"video {video!r}: expected {key!r}: {{annotator: [[onset, offset, category], …]}}")
        frames = entry.get("frames")
        if isinstance(frames, bool) or not isinstance(frames, (int, float)) or frames < 1 or frames != int(frames):
            raise DatasetError(source, f"video {video!r}: 'frames' (the video's frame count) must be a positive "
                                       f"integer, got {frames!r}")
        try:
            intervals, agreement = aggregate_intervals(marks, int(frames))
        except InputError as error:
            raise DatasetError(source, f"video {video!r}, {error}") from None
        result[video] = ({**entry, "final": intervals, "agreement": agreement} if long_video else
                         {"frames": frames, "intervals": intervals, "agreement": agreement})
    return {**data, "videos": result} if long_video else result
