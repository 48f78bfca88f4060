"""Figures of a run's results: t-SNE of the penultimate features, CEFLNet's activation over sub-clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.io.figures import plt, save_png


def plot_tsne(features: np.ndarray, label_ids: np.ndarray, path: Path, seed: int = 0,
              classes: tuple[str, ...] = labels.EXPRESSIONS) -> None:
    """2-D t-SNE of the penultimate features, coloured by true expression. Features that are all the
    same (a collapsed model) or not finite get a figure saying so: t-SNE has nothing to lay out
    there, and scikit-learn's Barnes–Hut t-SNE crashes the process on such input."""
    from sklearn.manifold import TSNE

    values = features.reshape(len(features), -1).astype(np.float64)
    if not np.isfinite(values).all() or np.ptp(values, axis=0).max() <= 1e-6 * max(1.0, np.abs(values).max()):
        figure, axis = plt.subplots(figsize=(6, 5))
        axis.text(0.5, 0.5, "no t-SNE: the penultimate features are " + (
            "not all finite" if not np.isfinite(values).all() else "the same for every clip"), ha="center", va="center")
        axis.axis("off")
        save_png(figure, path, dpi=110)
        return
    perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(values)
    figure, axis = plt.subplots(figsize=(6, 5))
    for index, name in enumerate(classes):
        chosen = label_ids == index
        if chosen.any():
            axis.scatter(points[chosen, 0], points[chosen, 1], s=12, label=name)
    axis.set(title="t-SNE of penultimate features", xticks=[], yticks=[])
    axis.legend(fontsize=8, markerscale=1.5)
    figure.tight_layout()
    save_png(figure, path, dpi=110)


def plot_activation(clip_scores: np.ndarray, predictions: pd.DataFrame, path: Path, clips: int = 8) -> None:
    """CEFLNet: each shown test clip's emotional activation over its sub-clips, located clip marked."""
    shown = min(clips, len(predictions))
    figure, axes = plt.subplots(shown, 1, figsize=(7, 1.3 * shown + 0.6), squeeze=False)
    for row, axis in enumerate(axes[:, 0]):
        predicted = int(predictions["prediction"].iloc[row])
        scores = clip_scores[row][:, predicted]
        located = int(predictions["located_clip"].iloc[row]) if "located_clip" in predictions else int(scores.argmax())
        bars = axis.bar(np.arange(len(scores)), scores, color="#9ab")
        bars[located].set_color("#d62")
        axis.set_ylabel(predictions["predicted"].iloc[row], rotation=0, ha="right", fontsize=8)
        axis.set_title(f"{predictions['clip_id'].iloc[row]} (true {predictions['expression'].iloc[row]})",
                       fontsize=8, loc="left")
        axis.set_xticks(np.arange(len(scores)))
        axis.set_yticks([])
    axes[-1, 0].set_xlabel("sub-clip (orange: located emotional clip)")
    figure.tight_layout()
    save_png(figure, path, dpi=110)
