"""AR@AN/AUC speed: dfer.metrics.proposals against a literal implementation of ActivityNet's reference
(bench/reference_eval.py, the same loops as Evaluation/eval_proposal.py), same inputs, same run.

Random ground truth and proposals for ``--videos`` videos (1–4 segments each, ``--proposals``
proposals each on average), both implementations timed (median of ``--repeats``), results compared.
Timings only; nothing is asserted.

    python bench/spot_eval.py [--videos 1000] [--proposals 150] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dfer.metrics.proposals import average_recall

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_eval import reference_ar_an  # noqa: E402  (beside this script)


def make_inputs(videos: int, proposals: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for v in range(videos):
        duration = rng.uniform(30, 120)
        for _ in range(rng.integers(1, 5)):
            start = rng.uniform(0, duration - 5)
            truth.append((f"v{v:05d}", start, start + rng.uniform(0.2, 5)))
        for _ in range(rng.poisson(proposals)):
            start = rng.uniform(0, duration - 5)
            found.append((f"v{v:05d}", start, start + rng.uniform(0.2, 6), rng.uniform()))
    return (pd.DataFrame(truth, columns=["video", "t_start", "t_end"]),
            pd.DataFrame(found, columns=["video", "t_start", "t_end", "score"]))


def timed(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--proposals", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    truth, proposals = make_inputs(args.videos, args.proposals)
    print(f"{truth.video.nunique()} videos, {len(truth)} ground-truth segments, {len(proposals)} proposals")
    fast, mine = timed(lambda: average_recall(truth, proposals), args.repeats)
    slow, reference = timed(lambda: reference_ar_an(truth, proposals), args.repeats)
    difference = max(np.abs(mine.recall - reference[0]).max(), abs(mine.auc - reference[3]))
    print(f"reference loops: {slow:.3f} s   dfer.metrics.proposals: {fast:.3f} s   ratio {slow / fast:.1f}×")
    print(f"AUC {mine.auc:.6f} vs {reference[3]:.6f}; largest difference {difference:.1e}")


if __name__ == "__main__":
    main()
