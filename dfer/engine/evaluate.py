"""Evaluation outputs of a run: predictions, metrics, confusion matrix, scene tables, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dfer import labels
from dfer.engine.config import RunConfig
from dfer.engine.data import make_dataset, make_loader
from dfer.engine.inference import load_checkpoint, predict
from dfer.engine.plots import plot_activation, plot_tsne
from dfer.io.atomic import atomic_path, write_json, write_table
from dfer.metrics.classification import classification_report, grouped_metrics
from dfer.metrics.plots import plot_confusion


def predict_split(config: RunConfig, table: pd.DataFrame, weights: Path, split: str = "test",
                  device: torch.device | None = None) -> tuple[pd.DataFrame, dict]:
    """Predictions of the model in ``weights`` on ``split`` as a table, plus raw arrays."""
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, _ = load_checkpoint(weights, device, config)
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
    write_table(out / "predictions.parquet", predictions)
    write_table(out / "predictions.csv", predictions)
    report = classification_report(predictions["label"], predictions["prediction"], list(labels.EXPRESSIONS))
    metrics = {**(extra or {}), **report, "clips": len(predictions)}
    confusion = np.asarray(report["confusion"])
    with atomic_path(out / "confusion.csv") as partial:
        pd.DataFrame(confusion, index=labels.EXPRESSIONS, columns=labels.EXPRESSIONS).rename_axis(
            "true \\ predicted").to_csv(partial)
    plot_confusion(confusion, list(labels.EXPRESSIONS), out / "confusion.png", title=f"WAR {report['war']:.2%}  "
                   f"UAR {report['uar']:.2%}")
    for group in ("scenario", "scene"):
        if (predictions[group] != "").any():
            table = grouped_metrics(predictions["label"], predictions["prediction"], predictions[group])
            with atomic_path(out / f"per_{group}.csv") as partial:
                table.to_csv(partial)
            metrics[f"per_{group}"] = table.reset_index().to_dict("records")
    if "features" in raw and len(predictions) >= 5:
        plot_tsne(raw["features"], predictions["label"].to_numpy(), out / "tsne.png")
    if "clip_scores" in raw:
        plot_activation(raw["clip_scores"], predictions, out / "activation_maps.png")
    write_json(out / "metrics.json", metrics)
    return metrics
