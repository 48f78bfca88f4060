"""Evaluation outputs of a run: predictions, metrics, confusion matrix, scene tables, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dfer import labels
from dfer.engine import checkpoint
from dfer.engine.config import RunConfig
from dfer.engine.data import make_dataset, make_loader
from dfer.engine.trainer import build_from_config, predict
from dfer.io.atomic import write_json
from dfer.metrics.classification import classification_report, grouped_metrics, plot_confusion


def predict_split(config: RunConfig, table: pd.DataFrame, weights: Path, split: str = "test",
                  device: torch.device | None = None) -> tuple[pd.DataFrame, dict]:
    """Predictions of the model in ``weights`` on ``split`` as a table, plus raw arrays."""
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, _ = build_from_config(config)
    payload = checkpoint.load(weights)
    checkpoint.load_model_weights(model, payload, weights, config.model.name, labels.NUM_CLASSES)
    model.to(device)
    rows = table[table["split"] == split].reset_index(drop=True)
    loader, _ = make_loader(make_dataset(rows, config.data, train=False, seed=config.seed),
                            config.train.eval_batch_size or config.train.batch_size, shuffle=False,
                            seed=config.seed, workers=config.data.workers)
    raw = predict(model, loader, device, amp=config.train.amp, progress=config.train.progress, keep_features=True)
    clips = rows.iloc[raw["index"]]  # one process, no shuffling: every clip once, in table order
    frame = pd.DataFrame({
        "clip_id": clips["clip_id"].to_numpy(),
        "label": raw["label"],
        "expression": [labels.EXPRESSIONS[i] for i in raw["label"]],
        "prediction": raw["prediction"],
        "predicted": [labels.EXPRESSIONS[i] for i in raw["prediction"]],
        **{f"p_{name}": raw["probabilities"][:, i] for i, name in enumerate(labels.EXPRESSIONS)},
        "scene": clips["scene"].to_numpy(),
        "scenario": clips["scenario"].to_numpy(),
    })
    if "located_clip" in raw:
        frame["located_clip"] = raw["located_clip"].astype(int)
    return frame, raw


def write_results(predictions: pd.DataFrame, raw: dict, out: Path, extra: dict | None = None) -> dict:
    """Write a results folder for one set of test predictions; returns the metrics."""
    out.mkdir(parents=True, exist_ok=True)
    predictions.to_parquet(out / "predictions.parquet", index=False)
    predictions.to_csv(out / "predictions.csv", index=False)
    report = classification_report(predictions["label"], predictions["prediction"], list(labels.EXPRESSIONS))
    metrics = {**(extra or {}), **report, "clips": len(predictions)}
    confusion = np.asarray(report["confusion"])
    pd.DataFrame(confusion, index=labels.EXPRESSIONS, columns=labels.EXPRESSIONS).rename_axis(
        "true \\ predicted").to_csv(out / "confusion.csv")
    plot_confusion(confusion, list(labels.EXPRESSIONS), out / "confusion.png", title=f"WAR {report['war']:.2%}  "
                   f"UAR {report['uar']:.2%}")
    for group in ("scenario", "scene"):
        if (predictions[group] != "").any():
            table = grouped_metrics(predictions["label"], predictions["prediction"], predictions[group])
            table.to_csv(out / f"per_{group}.csv")
            metrics[f"per_{group}"] = table.reset_index().to_dict("records")
    if "features" in raw and len(predictions) >= 5:
        plot_tsne(raw["features"], predictions["label"].to_numpy(), out / "tsne.png")
    if "clip_scores" in raw:
        plot_activation(raw["clip_scores"], predictions, out / "activation_maps.png")
    write_json(out / "metrics.json", metrics)
    return metrics


def plot_tsne(features: np.ndarray, label_ids: np.ndarray, path: Path, seed: int = 0) -> None:
    """2-D t-SNE of the penultimate features, coloured by true expression."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_activation(clip_scores: np.ndarray, predictions: pd.DataFrame, path: Path, clips: int = 8) -> None:
    """CEFLNet: each shown test clip's emotional activation over its sub-clips, located clip marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    figure.savefig(path, dpi=110)
    plt.close(figure)
