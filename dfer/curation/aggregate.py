"""Label aggregation: one input table ``(task, worker, label[, weight])``, one output table
``(task, label, confidence)``, whatever the method.

* ``wta`` — FERV39k's weighted winner-take-all: each answer votes with its ``weight`` (crowd 1,
  professional 2 in the paper); the label with the largest total wins; confidence = its share of
  the task's total weight. Ties go to the label with the larger total weight over all tasks, then
  the alphabetically first, so the result never depends on row order.
* ``majority``, ``wawa``, ``dawid_skene``, ``glad``, ``mace`` — crowd-kit's implementations
  (``crowdkit.aggregation``), confidence = the method's posterior probability of the label.
"""

from __future__ import annotations

import pandas as pd

from dfer.errors import InputError

METHODS = ("wta", "majority", "wawa", "dawid_skene", "glad", "mace")
OUTPUT_COLUMNS = ["task", "label", "confidence"]


def _crowdkit(method: str, options: dict):
    from crowdkit.aggregation import GLAD, MACE, DawidSkene, MajorityVote

    return {"majority": MajorityVote, "dawid_skene": DawidSkene, "glad": GLAD, "mace": MACE}[method](**options)


def weighted_wta(answers: pd.DataFrame) -> pd.DataFrame:
    """FERV39k's weighted winner-take-all (see the module docstring)."""
    weights = answers.assign(weight=answers["weight"] if "weight" in answers else 1.0)
    totals = weights.groupby(["task", "label"], sort=True)["weight"].sum().reset_index()
    overall = weights.groupby("label")["weight"].sum()
    totals["overall"] = totals.label.map(overall)
    ranked = totals.sort_values(["task", "weight", "overall", "label"], ascending=[True, False, False, True])
    best = ranked.drop_duplicates("task").set_index("task")
    share = best["weight"] / totals.groupby("task")["weight"].sum()
    return pd.DataFrame({"task": best.index, "label": best.label.to_numpy(),
                         "confidence": share.reindex(best.index).to_numpy()})


def aggregate(answers: pd.DataFrame, method: str = "wta", **options) -> pd.DataFrame:
    """Aggregated labels per task (columns :data:`OUTPUT_COLUMNS`, sorted by task); ``options`` go
    to the crowd-kit method (e.g. ``n_iter``; crowd-kit's defaults otherwise)."""
    if method not in METHODS:
        raise InputError(f"unknown aggregation method {method!r}; expected one of {METHODS}")
    missing = {"task", "worker", "label"} - set(answers.columns)
    if missing:
        raise InputError(f"answers need columns task, worker, label; missing {sorted(missing)}")
    if method == "wta":
        return weighted_wta(answers).sort_values("task", ignore_index=True)
    table = answers[["task", "worker", "label"]]
    if method == "wawa":
        # Wawa = majority vote weighted by each worker's agreement with the majority. crowd-kit
        # 1.4.2's Wawa.predict_proba trips over scikit-learn ≥ 1.6's check_is_fitted, so its
        # fitted skills go through crowd-kit's MajorityVote, which is what Wawa does inside.
        from crowdkit.aggregation import MajorityVote, Wawa

        probabilities = MajorityVote().fit_predict_proba(table, skills=Wawa(**options).fit(table).skills_)
    else:
        probabilities = _crowdkit(method, options).fit_predict_proba(table)
    best = probabilities.idxmax(axis=1)
    result = pd.DataFrame({"task": probabilities.index, "label": best.to_numpy(),
                           "confidence": probabilities.max(axis=1).to_numpy()})
    return result.sort_values("task", ignore_index=True)
