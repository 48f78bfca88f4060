"""Classification metrics of the DFER papers: WAR, UAR, per-class recall and confusion matrices,
their 5-fold aggregates, per-scene tables and the cross-scenario matrix. Pure numpy/pandas; labels
are canonical class indices 0..K−1 and every metric is a fraction in [0, 1] (the papers print %).

- WAR (weighted average recall) = accuracy = Σₖ nₖ·recallₖ / Σₖ nₖ.
- UAR (unweighted average recall) = mean of recallₖ over the classes present in ``y_true``
  (recall is undefined for a class without samples; same as ``sklearn.metrics.balanced_accuracy_score``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from dfer import labels
from dfer.errors import InputError

ALL = "All"


def war(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Weighted average recall = accuracy: the fraction of samples predicted correctly."""
    y_true, y_pred = _as_labels(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int = labels.NUM_CLASSES) -> np.ndarray:
    """(K, K) int64 counts: entry [t, p] counts samples of true class t predicted as p."""
    y_true, y_pred = _as_labels(y_true, y_pred, num_classes)
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_recall(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int = labels.NUM_CLASSES) -> np.ndarray:
    """(K,) recallₖ = correctₖ / nₖ; NaN for classes absent from ``y_true``."""
    return _recall(confusion(y_true, y_pred, num_classes))


def uar(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int = labels.NUM_CLASSES) -> float:
    """Unweighted average recall: mean of :func:`per_class_recall` over the classes present in ``y_true``."""
    return float(np.nanmean(per_class_recall(y_true, y_pred, num_classes)))


def classification_report(
    y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str] = labels.EXPRESSIONS
) -> dict:
    """JSON-ready summary: ``num_samples``, ``war``, ``uar``, per-class ``recall`` (None when the class
    has no samples) and ``support`` keyed by name, ``class_names`` and ``confusion`` (rows true,
    columns predicted, nested lists)."""
    counts = confusion(y_true, y_pred, len(class_names))
    recall = _recall(counts)
    return {
        "num_samples": int(counts.sum()),
        "war": _war(counts),
        "uar": float(np.nanmean(recall)),
        "recall": {name: None if np.isnan(r) else float(r) for name, r in zip(class_names, recall)},
        "support": {name: int(n) for name, n in zip(class_names, counts.sum(axis=1))},
        "class_names": list(class_names),
        "confusion": counts.tolist(),
    }


def pooled_and_mean(
    folds: Sequence[tuple[Sequence[int], Sequence[int]]], num_classes: int = labels.NUM_CLASSES
) -> dict:
    """The two 5-fold aggregates, named, from one ``(y_true, y_pred)`` pair per test fold.

    - ``pooled``: the predictions of all folds pooled, then WAR/UAR once (the DFEW paper's protocol).
    - ``mean_of_folds``: mean and population standard deviation (ddof = 0) of the per-fold WAR/UAR
      (later papers).

    ``folds`` lists each fold's ``war``, ``uar`` and ``num_samples``.
    """
    if not folds:
        raise InputError("no folds to aggregate")
    matrices = [confusion(y_true, y_pred, num_classes) for y_true, y_pred in folds]
    per_fold = [
        {"war": _war(m), "uar": float(np.nanmean(_recall(m))), "num_samples": int(m.sum())} for m in matrices
    ]
    pooled = np.sum(matrices, axis=0)
    wars = np.array([fold["war"] for fold in per_fold])
    uars = np.array([fold["uar"] for fold in per_fold])
    return {
        "pooled": {"war": _war(pooled), "uar": float(np.nanmean(_recall(pooled))), "num_samples": int(pooled.sum())},
        "mean_of_folds": {
            "war": float(wars.mean()), "war_std": float(wars.std()),
            "uar": float(uars.mean()), "uar_std": float(uars.std()),
        },
        "folds": per_fold,
    }


def grouped_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence[Hashable], num_classes: int = labels.NUM_CLASSES
) -> pd.DataFrame:
    """WAR, UAR and sample count per group (scene, scenario, …): one row per group after an "All" row.

    The layout of FERV39k Tables 2 and 4–7 (transposed: groups are rows). FERV39k scenarios and
    scenes come in the paper's order (DL, WIS, SIA, AI, then their scenes); other groups sorted.
    """
    y_true, y_pred = _as_labels(y_true, y_pred, num_classes)
    groups = np.asarray(groups)
    if groups.shape != y_true.shape:
        raise InputError(f"expected one group per sample ({len(y_true)}); got {len(groups)}")
    present = set(groups.tolist())
    if ALL in present:
        raise InputError(f"a group is named {ALL!r}, the name of the row over all samples")
    known = [g for g in (*labels.SCENARIOS, *labels.SCENES) if g in present]
    order = known + sorted(present - set(known), key=str)
    rows = {ALL: np.ones(len(y_true), dtype=bool)} | {group: groups == group for group in order}
    table = pd.DataFrame(
        [
            {
                "group": name,
                "war": war(y_true[mask], y_pred[mask]),
                "uar": uar(y_true[mask], y_pred[mask], num_classes),
                "count": int(mask.sum()),
            }
            for name, mask in rows.items()
        ]
    )
    return table.set_index("group")


def cross_scenario_matrix(
    results: Mapping[tuple[str, str], tuple[float, float]], scenarios: Sequence[str] | None = None
) -> pd.DataFrame:
    """FERV39k Table 3: rows the scenario trained on ("Source"), columns the one tested on
    ("Target"), each cell "WAR/UAR" in percent with two decimals ("" where no result).

    ``results`` maps ``(train, test)`` to ``(war, uar)`` fractions. Rows and columns follow
    ``scenarios``, by default the paper's order DL, WIS, SIA, AI, then any other names as they come.
    """
    if scenarios is None:
        named = list(dict.fromkeys(name for pair in results for name in pair))
        scenarios = [s for s in labels.SCENARIOS if s in named] + [s for s in named if s not in labels.SCENARIOS]
    cells = [
        [_war_uar_cell(results[(train, test)]) if (train, test) in results else "" for test in scenarios]
        for train in scenarios
    ]
    return pd.DataFrame(
        cells,
        index=pd.Index(scenarios, name="trained on"),
        columns=pd.Index(scenarios, name="tested on"),
    )


def seed_summary(runs: Mapping[int, Mapping]) -> dict:
    """Mean and sample standard deviation (ddof = 1; 0 for one run) over seeds of every WAR and UAR
    that all runs report, at any depth: ``{seed: metrics}`` → ``{"seeds": [...], "war": {"mean",
    "std", "values"}, "pooled.war": …, "per_fold.1.uar": …}`` (dotted paths into the metrics)."""
    flat = [_rates(metrics) for metrics in runs.values()]
    shared = [key for key in flat[0] if all(key in run for run in flat)] if flat else []
    summary: dict = {"seeds": list(runs)}
    for key in shared:
        values = np.array([run[key] for run in flat], dtype=np.float64)
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                        "values": values.tolist()}
    return summary


def _rates(metrics: Mapping, prefix: str = "") -> dict[str, float]:
    """The WAR/UAR numbers of a nested metrics dict, by dotted path."""
    found = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            found.update(_rates(value, f"{prefix}{key}."))
        elif str(key) in ("war", "uar") and isinstance(value, (int, float)):
            found[f"{prefix}{key}"] = float(value)
    return found


def _as_labels(
    y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape or len(y_true) == 0:
        raise InputError(
            f"expected two non-empty 1-D label arrays of equal length; got shapes {y_true.shape} and {y_pred.shape}"
        )
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(values.dtype, np.integer):
            raise InputError(f"{name} must hold integer class indices; got dtype {values.dtype}")
        if num_classes is not None and (values.min() < 0 or values.max() >= num_classes):
            raise InputError(f"{name} must lie in 0..{num_classes - 1}; got {values.min()}..{values.max()}")
    return y_true.astype(np.int64), y_pred.astype(np.int64)


def _recall(counts: np.ndarray) -> np.ndarray:
    support = counts.sum(axis=1)
    return np.divide(np.diag(counts), support, out=np.full(len(counts), np.nan), where=support > 0)


def _war(counts: np.ndarray) -> float:
    return float(np.trace(counts) / counts.sum())


def _war_uar_cell(scores: tuple[float, float]) -> str:
    war_score, uar_score = scores
    return f"{100 * war_score:.2f}/{100 * uar_score:.2f}"
