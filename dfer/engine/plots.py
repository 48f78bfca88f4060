"""Figures of a run's results: t-SNE of the penultimate features, CEFLNet's activation over sub-clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.io.figures import plt, save_png


def plot_tsne(features: np.ndarray, label_ids: np.ndarray, path: Path, seed: int = 0) -> None:
    """2-D t-SNE of the penultimate features, coloured by true expression."""
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
    points = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(
        features.reshape(len(features), -1).astype(np.float64))
    figure, axis = plt.subplots(figsize=(6, 5))
    for index, name in enumerate(labels.EXPRESSIONS):
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
        axis.set_ylabel(labels.EXPRESSIONS[predicted], rotation=0, ha="right", fontsize=8)
        axis.set_title(f"{predictions['clip_id'].iloc[row]} (true {predictions['expression'].iloc[row]})",
                       fontsize=8, loc="left")
        axis.set_xticks(np.arange(len(scores)))
        axis.set_yticks([])
    axes[-1, 0].set_xlabel("sub-clip (orange: located emotional clip)")
    figure.tight_layout()
    save_png(figure, path, dpi=110)
