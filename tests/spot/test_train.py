"""The uniform sliding-window baseline of ``dfer spot train``."""

import numpy as np
import pytest

from dfer.metrics.proposals import average_recall
from dfer.spot.train import VideoItem, ground_truth, sliding_window_baseline, sliding_windows


def videos():
    rng = np.random.default_rng(0)
    items = []
    for index in range(4):
        starts = np.sort(rng.uniform(0, 0.8, 3))
        segments = np.stack([starts, starts + rng.uniform(0.02, 0.15, 3)], axis=1)
        items.append(VideoItem(f"v{index}", np.zeros((4, 16), np.float32), segments, covered_frames=400, fps=25.0))
    return items


def test_windows_cover_each_length_at_half_overlap_with_seeded_scores():
    items = videos()
    windows = sliding_windows(items[:1], lengths=(2.0, 4.0))
    assert windows.t_start[windows.t_end - windows.t_start == 2.0].tolist() == list(np.arange(0, 15, 1.0))
    assert windows.t_end.max() == 16.0 and len(windows) == 15 + 7
    assert windows.score.tolist() == sliding_windows(items[:1], lengths=(2.0, 4.0)).score.tolist()
    assert windows.score.tolist() != sliding_windows(items[:1], lengths=(2.0, 4.0), seed=1).score.tolist()


def test_the_baseline_is_the_mean_over_random_orders():
    items = videos()
    truth = ground_truth(items)
    single = [average_recall(truth, sliding_windows(items, seed=seed)) for seed in range(3, 8)]
    baseline = sliding_window_baseline(items, truth, seed=3, orders=5)
    assert baseline.auc == pytest.approx(np.mean([run.auc for run in single]))
    np.testing.assert_allclose(baseline.average_recall, np.mean([run.average_recall for run in single], axis=0))
    assert baseline.extra == {"orders": 5, "auc_sd": pytest.approx(np.std([run.auc for run in single]))}
    assert baseline.extra["auc_sd"] > 0  # single orders really differ: one of them is not the baseline
    assert baseline.auc == pytest.approx(100 * np.trapezoid(baseline.average_recall, baseline.an) / baseline.an[-1])
