"""The metrics' figures: confusion matrices and AR@AN curves (PNG)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dfer.io.figures import plt, save_png
from dfer.metrics.proposals import ProposalScores


def plot_confusion(
    confusion: np.ndarray, class_names: Sequence[str], path: str | Path, normalize: bool = True, title: str = ""
) -> Path:
    """Write a confusion-matrix heat map as PNG (rows true, columns predicted) and return its path.

    With ``normalize`` cells are coloured and annotated by row-normalised percentages
    (100·count / row total; 0 for a class without samples); otherwise by raw counts.
    """
    counts = np.asarray(confusion)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    values = 100 * shares if normalize else counts
    size = 1.5 + 0.75 * len(class_names)
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    image = axis.imshow(values, cmap="Blues", vmin=0, vmax=100 if normalize else max(int(counts.max()), 1))
    figure.colorbar(image, ax=axis, label="% of true class" if normalize else "samples")
    ticks = np.arange(len(class_names))
    axis.set_xticks(ticks, class_names, rotation=45, ha="right")
    axis.set_yticks(ticks, class_names)
    axis.set(xlabel="predicted", ylabel="true", title=title)
    threshold = (100 if normalize else counts.max()) / 2
    for (row, column), value in np.ndenumerate(values):
        text = f"{value:.1f}" if normalize else str(value)
        axis.text(column, row, text, ha="center", va="center", fontsize=8,
                  color="white" if value > threshold else "black")
    figure.tight_layout()
    return save_png(figure, path)


def plot_ar_an(scores: Mapping[str, ProposalScores], path: str | Path) -> Path:
    """The AR@AN curves of one or more proposal sets (name → scores) as a PNG."""
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
    return save_png(figure, path)
