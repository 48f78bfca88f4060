"""DFEW's labels from 10 annotators' votes: distributions, single labels, agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dfer import labels
from dfer.curation.agreement import fleiss_kappa
from dfer.errors import InputError

#: DFEW keeps a clip as single-labeled when one class has more than this many of its 10 votes.
DFEW_THRESHOLD = 6


def vote_table(answers: pd.DataFrame) -> pd.DataFrame:
    """``task × expression`` vote counts (canonical column order) from answers ``(task, worker, label)``
    whose labels are expression names; unknown names raise, naming the row."""
    known = set(labels.EXPRESSIONS)
    bad = answers.index[~answers.label.isin(known)]
    if len(bad):
        row = int(bad[0])
        raise InputError(f"answer row {row}: label {answers.label.loc[bad[0]]!r} is not one of {labels.EXPRESSIONS}")
    table = pd.crosstab(answers.task, answers.label).reindex(columns=list(labels.EXPRESSIONS), fill_value=0)
    table.columns.name = None
    return table


def database_votes(database) -> pd.DataFrame:
    """``clip × expression`` vote counts from an annotation database's crowd answers (each copy's
    own annotator; PASS left out) — DFEW's 10 votes per clip when planned with ``mode="dfew"``."""
    from contextlib import closing

    from dfer.curation.annotation import PASS, connect

    with closing(connect(database)) as connection:
        answers = pd.read_sql_query(
            "SELECT tasks.clip_id AS task, answers.worker_id AS worker, answers.label FROM answers "
            "JOIN tasks USING (task_id) JOIN copies USING (copy_id) WHERE answers.worker_id = copies.worker_id "
            "AND answers.label != ?", connection, params=(PASS,))
    if answers.empty:
        raise InputError(f"{database}: no answers yet")
    return vote_table(answers).rename_axis("clip_id")


def distributions(votes: pd.DataFrame) -> pd.DataFrame:
    """Each clip's votes as a 7-dimensional distribution (rows sum to 1)."""
    totals = votes.sum(axis=1)
    if (totals == 0).any():
        raise InputError(f"clip {votes.index[totals == 0][0]!r} has no votes")
    return votes.div(totals, axis=0)


def single_labels(votes: pd.DataFrame, threshold: int = DFEW_THRESHOLD) -> pd.DataFrame:
    """DFEW's rule: a clip is single-labeled with class k when k has more than ``threshold`` votes.

    Returns one row per clip: ``label`` (expression name, empty when not single-labeled),
    ``votes`` (the top count), ``single`` (bool).
    """
    top = votes.to_numpy().argmax(axis=1)
    count = votes.to_numpy().max(axis=1)
    single = count > threshold
    return pd.DataFrame({"label": np.where(single, np.asarray(votes.columns)[top], ""), "votes": count,
                         "single": single}, index=votes.index)


def agreement_report(votes: pd.DataFrame, threshold: int = DFEW_THRESHOLD) -> dict:
    """Fleiss' kappa over all clips and over the single-labeled ones (DFEW reports 0.70 / 0.63),
    with the counts per class of single-labeled clips."""
    singles = single_labels(votes, threshold)
    chosen = votes[singles.single]
    return {"clips": int(len(votes)), "single_labeled": int(singles.single.sum()),
            "kappa_all": fleiss_kappa(votes.to_numpy()),
            "kappa_single": fleiss_kappa(chosen.to_numpy()) if len(chosen) else float("nan"),
            "single_per_class": singles[singles.single].label.value_counts().reindex(
                list(labels.EXPRESSIONS), fill_value=0).to_dict()}


def summarise_votes(votes: pd.DataFrame, threshold: int = DFEW_THRESHOLD) -> tuple[pd.DataFrame, dict]:
    """For a ``clip × expression`` table of vote counts: per clip the vote distribution
    (``p_<expression>``) and DFEW's single label (:func:`single_labels`), and the agreement report
    (:func:`agreement_report`)."""
    counts = votes.astype(float).astype(int)
    table = distributions(counts).add_prefix("p_").join(single_labels(counts, threshold))
    return table, agreement_report(counts, threshold)
