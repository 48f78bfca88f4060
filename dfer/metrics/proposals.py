"""Proposal evaluation for expression spotting (SDFE-LV, "Evaluation Metric"): AR@AN and AUC exactly as
ActivityNet's ``Evaluation/eval_proposal.py``, recall by duration (SDFE-LV Fig. 6), MEGC-style
spotting F1, and :func:`evaluate_files`, the whole of ``dfer spot evaluate``.

AR@AN, vectorised but operation for operation the reference's arithmetic, so the numbers are the
same (tested to 1e-9 against a literal loop implementation of the reference):

* only videos with ground truth count; ``ratio = max_avg · n_videos / n_proposals`` over every
  proposal in the file (also those of videos without ground truth);
* per video, proposals sorted by score descending (NumPy's default argsort, reversed, as the
  reference does through pandas), the first ``min(int(n · ratio), n)`` kept; ``total`` = kept;
* ``pcn = arange(1, 101) / 100 · max_avg · n_videos / total``; at each ``j`` and tIoU threshold a
  ground-truth segment is found if one of the video's first ``min(int(n_kept · pcn_j), n_kept)``
  proposals reaches the threshold; a video without proposals keeps its segments as misses;
* recall pooled over videos, averaged over the tIoU thresholds 0.5, 0.55, …, 0.95; ``AN =
  pcn · total / n_videos``; ``AUC = 100 · trapz(AR, AN) / AN[-1]``.

Instead of the reference's loop over every (threshold, video, AN) triple, each ground-truth segment
gets, per threshold, the rank of the first proposal reaching it; a segment is found at ``j`` when
that rank is below the video's cut-off at ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dfer.data.long_video import ground_truth_segments, read_proposals
from dfer.errors import InputError
from dfer.metrics.temporal import frame_iou, segment_iou

THRESHOLDS = np.linspace(0.5, 0.95, 10)
MAX_AVG = 100
REPORTED_AN = (1, 5, 10, 50, 100)
#: SDFE-LV Fig. 6's duration bins (seconds): short, typical, long expressions.
DURATION_BINS = (("≤ 0.5 s", 0.0, 0.5), ("0.5–4 s", 0.5, 4.0), ("> 4 s", 4.0, np.inf))


@dataclass
class ProposalScores:
    """AR@AN of a proposal set: ``recall[t, j]`` at threshold ``t`` and ``an[j]`` proposals per video."""

    recall: np.ndarray
    average_recall: np.ndarray
    an: np.ndarray
    auc: float
    videos: int
    ground_truth: int
    proposals: int
    kept: int
    extra: dict = field(default_factory=dict)

    def ar_at(self, an: float) -> float:
        """Average recall at ``an`` proposals per video (by AN value, linear between AN points)."""
        return float(np.interp(an, self.an, self.average_recall))

    def summary(self) -> dict:
        """``{"auc": …, "AR@1": …, "AR@5": …, "AR@10": …, "AR@50": …, "AR@100": …}`` (AR in %)."""
        return {"auc": self.auc, **{f"AR@{k}": 100.0 * self.ar_at(k) for k in REPORTED_AN}}


def average_recall(ground_truth: pd.DataFrame, proposals: pd.DataFrame, max_avg: float | None = MAX_AVG,
                   thresholds: np.ndarray = THRESHOLDS, segment_mask: np.ndarray | None = None) -> ProposalScores:
    """AR@AN and AUC of ``proposals`` (video, t_start, t_end, score; file order) against
    ``ground_truth`` (video, t_start, t_end). ``segment_mask`` restricts the recall to some
    ground-truth segments (e.g. a duration bin) without changing the proposals' budget."""
    videos = pd.unique(ground_truth.video)
    if max_avg is not None and not max_avg > 0:
        raise InputError(f"max_avg (proposals per video at the end of the curve) must be positive, got {max_avg}")
    if len(videos) == 0:
        raise InputError("the ground truth has no segments")
    if len(proposals) == 0:
        raise InputError("the proposal file has no proposals")
    max_avg = max_avg or len(proposals) / len(videos)
    ratio = max_avg * float(len(videos)) / len(proposals)
    spans, scores = _by_video(proposals.video, videos), proposals.score.to_numpy()
    bounds = proposals[["t_start", "t_end"]].to_numpy(float)
    truth_spans = _by_video(ground_truth.video, videos)
    segments_all = ground_truth[["t_start", "t_end"]].to_numpy(float)
    mask_all = np.ones(len(ground_truth), bool) if segment_mask is None else np.asarray(segment_mask, bool)
    never = np.iinfo(np.int64).max
    first_hits, kept_counts, masks = [], [], []
    total = 0
    for index in range(len(videos)):
        rows = truth_spans[index]
        segments = segments_all[rows]
        masks.append(mask_all[rows])
        mine = spans[index]
        if len(mine) == 0:
            first_hits.append(np.full((len(segments), len(thresholds)), never))
            kept_counts.append(0)  # all its segments are misses
            continue
        order = scores[mine].argsort()[::-1]  # NumPy's default sort, reversed: the reference's tie order
        kept = min(int(len(mine) * ratio), len(mine))
        total += kept
        ranked = bounds[mine][order][:kept]
        reached = segment_iou(ranked, segments).T[:, :, None] >= thresholds[None, None, :]  # (segments, kept, t)
        first = (np.where(reached.any(axis=1), reached.argmax(axis=1), never) if kept
                 else np.full((len(segments), len(thresholds)), never))
        first_hits.append(first)
        kept_counts.append(kept)
    if total == 0:
        raise InputError("no proposal is kept for any ground-truth video (their proposal lists are empty)")
    pcn = np.arange(1, 101) / 100.0 * (max_avg * float(len(videos)) / total)
    matches = np.zeros((len(thresholds), len(pcn)))
    positives = 0
    for first, kept, mask in zip(first_hits, kept_counts, masks):
        cutoff = np.minimum((kept * pcn).astype(int), kept)  # (an,)
        found = first[mask][:, :, None] < cutoff[None, None, :]  # (segments, t, an)
        matches += found.sum(axis=0)
        positives += int(mask.sum())
    if positives == 0:
        raise InputError("no ground-truth segment is selected")
    recall = matches / positives
    avg = recall.mean(axis=0)
    an = pcn * (float(total) / len(videos))
    auc = float(100.0 * np.trapezoid(avg, an) / an[-1])
    return ProposalScores(recall, avg, an, auc, len(videos), positives, len(proposals), total)


def _by_video(column: pd.Series, videos) -> list[np.ndarray]:
    """Row positions of each of ``videos`` in ``column``, in file order (empty where absent)."""
    codes = pd.Index(videos).get_indexer(column)  # −1 for videos not listed
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(videos) + 1))
    return [order[starts[i]:starts[i + 1]] for i in range(len(videos))]


def recall_by_duration(ground_truth: pd.DataFrame, proposals: pd.DataFrame, bins=DURATION_BINS,
                       max_avg: float = MAX_AVG) -> pd.DataFrame:
    """Per duration bin of the ground-truth segments: their number, AUC and AR@100 (SDFE-LV Fig. 6)."""
    length = (ground_truth.t_end - ground_truth.t_start).to_numpy()
    rows = []
    truth = ground_truth.reset_index(drop=True)
    for name, low, high in bins:
        mask = (length > low) & (length <= high) if low > 0 else length <= high
        if not mask.any():
            rows.append({"bin": name, "segments": 0, "auc": np.nan, "AR@100": np.nan})
            continue
        scores = average_recall(truth, proposals, max_avg, segment_mask=mask)
        rows.append({"bin": name, "segments": int(mask.sum()), "auc": scores.auc, "AR@100": 100.0 * scores.ar_at(100)})
    return pd.DataFrame(rows)


def spotting_f1(ground_truth: pd.DataFrame, predictions: pd.DataFrame, iou: float = 0.5) -> dict:
    """MEGC-style F1 over inclusive frame intervals (columns video, onset, offset): a prediction is a
    true positive when its IoU with a still unmatched ground-truth interval of the same video is at
    least ``iou`` (each ground truth matched once, highest IoU first); counts pooled over videos."""
    true_positives = 0
    truth = {video: rows for video, rows in ground_truth.groupby("video")}
    for video, rows in predictions.groupby("video"):
        if video not in truth:
            continue
        values = frame_iou(rows[["onset", "offset"]].to_numpy(), truth[video][["onset", "offset"]].to_numpy())
        found, known = np.nonzero(values >= iou)
        used_p, used_g = set(), set()
        for index in np.lexsort((-known, -found, -values[found, known])):  # highest IoU first, then later rows
            i, k = found[index], known[index]
            if i not in used_p and k not in used_g:
                used_p.add(i)
                used_g.add(k)
        true_positives += len(used_p)
    precision = true_positives / len(predictions) if len(predictions) else 0.0
    recall = true_positives / len(ground_truth) if len(ground_truth) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_positives": true_positives, "predictions": int(len(predictions)),
            "ground_truth": int(len(ground_truth)), "precision": precision, "recall": recall, "f1": f1}


def proposal_frames(proposals: pd.DataFrame, fps: pd.Series) -> pd.DataFrame:
    """``proposals`` (video, t_start, t_end, …) with inclusive frame intervals ``onset, offset``:
    frame ``f`` covers ``[f / fps, (f + 1) / fps)``, so ``onset = round(t_start · fps)`` and
    ``offset = round(t_end · fps) − 1`` (at least the onset); ``fps`` is indexed by video."""
    rate = proposals.video.map(fps).astype(float)  # float also when no proposal is left (an empty map keeps str)
    onset = (proposals.t_start * rate).round().astype(int)
    offset = (proposals.t_end * rate).round().astype(int) - 1
    return proposals.assign(onset=onset, offset=np.maximum(onset, offset))


@dataclass
class ProposalEvaluation:
    """What ``dfer spot evaluate`` reports for one proposal file against one ground truth."""

    scores: ProposalScores
    by_duration: pd.DataFrame  # recall_by_duration
    f1: dict | None  # spotting_f1, or None when the ground truth gives no fps
    unknown_videos: int  # proposal videos without ground truth (their proposals count in the budget)
    unknown_proposals: int
    videos_without_proposals: list[str]  # ground-truth videos whose segments all count as missed

    def notes(self) -> list[str]:
        """What a reader of the numbers should know about the inputs."""
        notes = []
        if self.unknown_videos:
            notes.append(f"{self.unknown_videos} video(s) in the proposals have no ground truth; their "
                         f"{self.unknown_proposals} proposals count in the proposal budget (as ActivityNet does) "
                         "but match nothing")
        if self.videos_without_proposals:
            notes.append(f"{len(self.videos_without_proposals)} ground-truth video(s) have no proposals (e.g. "
                         f"{self.videos_without_proposals[0]}); their segments count as missed")
        return notes


def evaluate_files(ground_truth: str | Path, proposals: str | Path, subset: str | None = None,
                   max_avg: float = MAX_AVG, f1_threshold: float = 0.5, f1_iou: float = 0.5) -> ProposalEvaluation:
    """AR@AN/AUC, recall by duration and spotting F1 (proposals with ``score ≥ f1_threshold``, frame
    IoU ≥ ``f1_iou``) of an ActivityNet results file against ActivityNet ground truth or a
    ``dfer-long-video`` file's final intervals (``subset``: one split of it)."""
    truth = ground_truth_segments(ground_truth, subset)
    found = read_proposals(proposals)
    known = found.video.isin(truth.video)
    scores = average_recall(truth, found, max_avg)
    f1 = None
    if truth.fps.notna().all():
        rate = truth.drop_duplicates("video").set_index("video").fps.astype(float)
        predicted = proposal_frames(found[known & (found.score >= f1_threshold)], rate)
        f1 = spotting_f1(truth.astype({"onset": int, "offset": int}), predicted, f1_iou)
    return ProposalEvaluation(scores, recall_by_duration(truth, found, max_avg=max_avg), f1,
                              int(found[~known].video.nunique()), int((~known).sum()),
                              sorted(set(truth.video) - set(found.video)))
