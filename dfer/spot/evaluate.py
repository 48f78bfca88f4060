"""Proposal evaluation for expression spotting: AR@AN and AUC exactly as ActivityNet's
``Evaluation/eval_proposal.py``, recall by duration, MEGC-style F1, and the AR@AN plot.

AR@AN (GUIDE §4.5), vectorised but operation for operation the reference's arithmetic, so the
numbers are the same (tested to 1e-9 against a literal loop implementation of the reference):

* only videos with ground truth count; ``ratio = max_avg · n_videos / n_proposals`` over every
  proposal in the file (also those of videos without ground truth);
* per video, proposals sorted by score descending (NumPy's default argsort, reversed, as the
  reference does through pandas), the first ``min(int(n · ratio), n)`` kept; ``total`` = kept;
* ``pcn = arange(1, 101) / 100 · max_avg · n_videos / total``; at each ``j`` and tIoU threshold a
  ground-truth segment is found if one of the video's first ``min(int(n_kept · pcn_j), n_kept)``
  proposals reaches the threshold; a video without proposals keeps its segments as misses;
* recall pooled over videos, averaged over the thresholds ``linspace(0.5, 0.95, 10)``; ``AN =
  pcn · total / n_videos``; ``AUC = 100 · trapz(AR, AN) / AN[-1]``.

Instead of the reference's loop over every (threshold, video, AN) triple, each ground-truth segment
gets, per threshold, the rank of the first proposal reaching it; a segment is found at ``j`` when
that rank is below the video's cut-off at ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


def segment_iou(proposals: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """tIoU ``(n_segments, n_proposals)`` between ``[start, end]`` rows, with the reference's
    operation order: ``inter / ((segment_len + proposal_len) − inter)``."""
    start = np.maximum(proposals[None, :, 0], segments[:, None, 0])
    end = np.minimum(proposals[None, :, 1], segments[:, None, 1])
    inter = (end - start).clip(0)
    union = (segments[:, None, 1] - segments[:, None, 0]) + (proposals[None, :, 1] - proposals[None, :, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter.astype(float) / union


def average_recall(ground_truth: pd.DataFrame, proposals: pd.DataFrame, max_avg: float | None = MAX_AVG,
                   thresholds: np.ndarray = THRESHOLDS, segment_mask: np.ndarray | None = None) -> ProposalScores:
    """AR@AN and AUC of ``proposals`` (video, t_start, t_end, score; file order) against
    ``ground_truth`` (video, t_start, t_end). ``segment_mask`` restricts the recall to some
    ground-truth segments (e.g. a duration bin) without changing the proposals' budget."""
    videos = pd.unique(ground_truth.video)
    if len(videos) == 0:
        raise ValueError("the ground truth has no segments")
    if len(proposals) == 0:
        raise ValueError("the proposal file has no proposals")
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
        reached = segment_iou(ranked, segments)[:, :, None] >= thresholds[None, None, :]  # (segments, kept, t)
        first = (np.where(reached.any(axis=1), reached.argmax(axis=1), never) if kept
                 else np.full((len(segments), len(thresholds)), never))
        first_hits.append(first)
        kept_counts.append(kept)
    if total == 0:
        raise ValueError("no proposal is kept for any ground-truth video (their proposal lists are empty)")
    pcn = np.arange(1, 101) / 100.0 * (max_avg * float(len(videos)) / total)
    matches = np.zeros((len(thresholds), len(pcn)))
    positives = 0
    for first, kept, mask in zip(first_hits, kept_counts, masks):
        cutoff = np.minimum((kept * pcn).astype(int), kept)  # (an,)
        found = first[mask][:, :, None] < cutoff[None, None, :]  # (segments, t, an)
        matches += found.sum(axis=0)
        positives += int(mask.sum())
    if positives == 0:
        raise ValueError("no ground-truth segment is selected")
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


def frame_iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    """IoU of inclusive frame intervals (MEGC): ``inter = max(0, min(e1, e2) − max(s1, s2) + 1)``."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return inter / ((a[1] - a[0] + 1) + (b[1] - b[0] + 1) - inter)


def spotting_f1(ground_truth: pd.DataFrame, predictions: pd.DataFrame, iou: float = 0.5) -> dict:
    """MEGC-style F1 over inclusive frame intervals (columns video, onset, offset): a prediction is a
    true positive when its IoU with a still unmatched ground-truth interval of the same video is at
    least ``iou`` (each ground truth matched once, highest IoU first); counts pooled over videos."""
    true_positives = 0
    truth = {video: rows for video, rows in ground_truth.groupby("video")}
    for video, rows in predictions.groupby("video"):
        if video not in truth:
            continue
        pairs = sorted(((frame_iou((p.onset, p.offset), (g.onset, g.offset)), i, k)
                        for i, p in enumerate(rows.itertuples()) for k, g in enumerate(truth[video].itertuples())),
                       reverse=True)
        used_p, used_g = set(), set()
        for value, i, k in pairs:
            if value < iou:
                break
            if i not in used_p and k not in used_g:
                used_p.add(i)
                used_g.add(k)
        true_positives += len(used_p)
    precision = true_positives / len(predictions) if len(predictions) else 0.0
    recall = true_positives / len(ground_truth) if len(ground_truth) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"true_positives": true_positives, "predictions": int(len(predictions)),
            "ground_truth": int(len(ground_truth)), "precision": precision, "recall": recall, "f1": f1}


def plot_ar_an(scores: dict[str, ProposalScores], path) -> None:
    """The AR@AN curves of one or more proposal sets as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dfer.io.atomic import atomic_path

    figure, axis = plt.subplots(figsize=(5.5, 4))
    for name, result in scores.items():
        axis.plot(result.an, 100 * result.average_recall, label=f"{name} (AUC {result.auc:.2f})")
    axis.set_xlabel("average number of proposals per video (AN)")
    axis.set_ylabel("average recall (%)")
    axis.set_xlim(0, max(r.an[-1] for r in scores.values()))
    axis.set_ylim(0, 100)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png", dpi=100)
    plt.close(figure)
