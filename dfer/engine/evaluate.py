"""Evaluation outputs of a run: predictions, metrics, confusion matrix, scene tables, plots.

With ``eval.clips: N`` > 1 every test video is classified from N temporal clips spread evenly over
it (the sampler's test views) and their probabilities are averaged (multi-clip testing, as later
DFER papers report); the single centred clip's WAR/UAR are reported next to it (``single_clip``).
Validation during training always uses the single clip.
"""

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
from dfer.errors import DatasetError
from dfer.io.atomic import atomic_path, write_json, write_table
from dfer.metrics.classification import classification_report, grouped_metrics
from dfer.metrics.plots import plot_confusion


def average_views(raw: dict, views: int) -> dict:
    """One entry per video from ``views`` consecutive entries per video (their test clips):
    probabilities and features averaged, the prediction their argmax; CEFLNet's clip scores and
    located clip are the middle view's (other views' sub-clips cover other frames)."""
    if views == 1:
        return raw
    if len(raw["index"]) % views or not (raw["index"].reshape(-1, views) == raw["index"][::views, None]).all():
        raise ValueError(f"expected {views} consecutive views per video")
    averaged = {key: value.reshape(-1, views, *value.shape[1:]).mean(1)
                for key, value in raw.items() if key in ("probabilities", "features")}
    middle = {key: value[views // 2::views] for key, value in raw.items()
              if key in ("label", "index", "clip_scores", "located_clip")}
    return {**averaged, **middle, "clip_id": raw["clip_id"][::views],
            "prediction": averaged["probabilities"].argmax(1)}


def predict_split(config: RunConfig, table: pd.DataFrame, weights: Path, split: str = "test",
                  device: torch.device | None = None, views: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Predictions of the model in ``weights`` on ``split`` as a table, plus raw arrays, from
    ``views`` test clips per video (default ``eval.clips``)."""
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    views = config.eval.clips if views is None else views
    model, _, classes = load_checkpoint(weights, device, config)
    data_classes = tuple(table.attrs.get("classes", labels.EXPRESSIONS))
    if data_classes != classes:
        raise DatasetError(weights, f"the checkpoint classifies {len(classes)} classes ({', '.join(classes)}) but the "
                           f"data's labels index {len(data_classes)} ({', '.join(data_classes)}); evaluate with the "
                           "data.classes the model was trained with")
    rows = table[table["split"] == split].reset_index(drop=True)
    loader, _ = make_loader(make_dataset(rows, config.data, train=False, seed=config.seed, views=views),
                            config.train.eval_batch_size or config.train.batch_size, shuffle=False,
                            seed=config.seed, workers=config.data.workers)
    raw = average_views(predict(model, loader, device, amp=config.train.amp, progress=config.train.progress,
                                keep_features=True), views)
    clips = rows.iloc[raw["index"]]  # one process, no shuffling: every clip once, in table order
    frame = pd.DataFrame({
        "clip_id": clips["clip_id"].to_numpy(),
        "label": raw["label"],
        "expression": [classes[i] for i in raw["label"]],
        "prediction": raw["prediction"],
        "predicted": [classes[i] for i in raw["prediction"]],
        **{f"p_{name}": raw["probabilities"][:, i] for i, name in enumerate(classes)},
        "scene": clips["scene"].to_numpy(),
        "scenario": clips["scenario"].to_numpy(),
    })
    if "located_clip" in raw:
        frame["located_clip"] = raw["located_clip"].astype(int)
    frame.attrs["classes"] = classes
    return frame, raw


def evaluate_split(config: RunConfig, table: pd.DataFrame, weights: Path, split: str = "test",
                   device: torch.device | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """:func:`predict_split` with ``eval.clips`` views, and the metrics to report next to the
    result: ``{"eval_clips": N, "single_clip": {"war", "uar"}}`` when N > 1 (else empty)."""
    predictions, raw = predict_split(config, table, weights, split, device)
    if config.eval.clips == 1:
        return predictions, raw, {}
    single, _ = predict_split(config, table, weights, split, device, views=1)
    report = classification_report(single["label"], single["prediction"], list(single.attrs["classes"]))
    return predictions, raw, {"eval_clips": config.eval.clips,
                              "single_clip": {"war": report["war"], "uar": report["uar"]}}


def write_results(predictions: pd.DataFrame, raw: dict, out: Path, extra: dict | None = None) -> dict:
    """Write a results folder for one set of test predictions (classes in ``predictions.attrs``, by
    default dfer's 7); returns the metrics."""
    classes = list(predictions.attrs.get("classes", labels.EXPRESSIONS))
    write_table(out / "predictions.parquet", predictions)
    write_table(out / "predictions.csv", predictions)
    report = classification_report(predictions["label"], predictions["prediction"], classes)
    metrics = {**(extra or {}), **report, "clips": len(predictions)}
    confusion = np.asarray(report["confusion"])
    with atomic_path(out / "confusion.csv") as partial:
        pd.DataFrame(confusion, index=classes, columns=classes).rename_axis(
            "true \\ predicted").to_csv(partial)
    plot_confusion(confusion, classes, out / "confusion.png", title=f"WAR {report['war']:.2%}  "
                   f"UAR {report['uar']:.2%}")
    for group in ("scenario", "scene"):
        if (predictions[group] != "").any():
            table = grouped_metrics(predictions["label"], predictions["prediction"], predictions[group], len(classes))
            with atomic_path(out / f"per_{group}.csv") as partial:
                table.to_csv(partial)
            metrics[f"per_{group}"] = table.reset_index().to_dict("records")
    if "features" in raw and len(predictions) >= 5:
        plot_tsne(raw["features"], predictions["label"].to_numpy(), out / "tsne.png", classes=tuple(classes))
    if "clip_scores" in raw:
        plot_activation(raw["clip_scores"], predictions, out / "activation_maps.png")
    write_json(out / "metrics.json", metrics)
    return metrics
