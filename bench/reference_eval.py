"""An independent, literal implementation of ActivityNet's AR@AN and AUC (``Evaluation/eval_proposal.py``),
loop by loop as the reference is structured, written from the algorithm's description: the baseline
``bench/spot_eval.py`` times :mod:`dfer.metrics.proposals` against, and the yardstick of its tests
(``tests/metrics/test_proposals.py``)."""

import numpy as np
import pandas as pd


def tiou_row(proposal, segments):
    start = np.maximum(proposal[0], segments[:, 0])
    end = np.minimum(proposal[1], segments[:, 1])
    inter = (end - start).clip(0)
    union = (segments[:, 1] - segments[:, 0]) + (proposal[1] - proposal[0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter.astype(float) / union


def reference_ar_an(ground_truth: pd.DataFrame, proposals: pd.DataFrame, max_avg=100,
                    thresholds=np.linspace(0.5, 0.95, 10)):
    """(recall, average recall, AN, AUC) as ActivityNet's eval_proposal computes them."""
    videos = ground_truth["video"].unique()
    ratio = max_avg * float(videos.shape[0]) / proposals.shape[0]
    truth_groups = ground_truth.groupby("video")
    proposal_groups = proposals.groupby("video")
    scores, total = [], 0
    for video in videos:
        segments = truth_groups.get_group(video).loc[:, ["t_start", "t_end"]].values
        try:
            rows = proposal_groups.get_group(video)
        except KeyError:
            scores.append(np.zeros((segments.shape[0], 1)))
            continue
        candidates = rows.loc[:, ["t_start", "t_end"]].values
        if candidates.shape[0] == 0:
            scores.append(np.zeros((segments.shape[0], 1)))
            continue
        order = rows["score"].argsort()[::-1]
        candidates = candidates[order, :]
        kept = np.minimum(int(candidates.shape[0] * ratio), candidates.shape[0])
        total += kept
        candidates = candidates[:kept, :]
        tiou = np.empty((segments.shape[0], candidates.shape[0]))
        for i in range(candidates.shape[0]):
            tiou[:, i] = tiou_row(candidates[i, :], segments)
        scores.append(tiou)
    pcn = np.arange(1, 101) / 100.0 * (max_avg * float(videos.shape[0]) / total)
    matches = np.empty((videos.shape[0], pcn.shape[0]))
    positives = np.empty(videos.shape[0])
    recall = np.empty((thresholds.shape[0], pcn.shape[0]))
    for r, threshold in enumerate(thresholds):
        for i, score in enumerate(scores):
            positives[i] = score.shape[0]
            hits = score >= threshold
            counts = np.minimum((score.shape[1] * pcn).astype(int), score.shape[1])
            for j, count in enumerate(counts):
                matches[i, j] = np.count_nonzero(hits[:, :count].sum(axis=1))
        recall[r, :] = matches.sum(axis=0) / positives.sum()
    average = recall.mean(axis=0)
    an = pcn * (float(total) / videos.shape[0])
    auc = 100.0 * float(np.trapezoid(average, an)) / an[-1]
    return recall, average, an, auc
