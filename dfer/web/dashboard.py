"""The admin's view of a running annotation: progress, live gold rates, QC, agreement so far.

Pure queries over the annotation database; the page (:func:`dfer.web.pages.dashboard`) shows them
and its buttons run the library's own steps (:func:`dfer.curation.annotation.quality_control`,
:func:`~dfer.curation.annotation.reassign`), as ``dfer annotate qc`` and ``reassign`` do.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from dfer import labels
from dfer.curation.agreement import fleiss_kappa
from dfer.curation.annotation import PASS


def copy_progress(connection: sqlite3.Connection) -> pd.DataFrame:
    """Per copy: group, copy, annotator, answered / total, submitted, the gold items answered and
    correct so far (a live rate, before any QC) and the QC decision once made."""
    return pd.read_sql_query(
        "SELECT copies.group_id AS \"group\", copies.copy_id AS copy, copies.worker_id AS annotator, "
        "COUNT(tasks.task_id) AS total, COUNT(answers.task_id) AS answered, "
        "submissions.copy_id IS NOT NULL AS submitted, "
        "SUM(clips.gold IS NOT NULL AND answers.task_id IS NOT NULL) AS gold_answered, "
        "SUM(answers.label = clips.gold) AS gold_correct, decisions.decision AS decision "
        "FROM copies JOIN tasks USING (copy_id) JOIN clips USING (clip_id) "
        "LEFT JOIN answers ON answers.task_id = tasks.task_id AND answers.worker_id = copies.worker_id "
        "LEFT JOIN submissions ON submissions.copy_id = copies.copy_id "
        "LEFT JOIN decisions ON decisions.copy_id = copies.copy_id "
        "GROUP BY copies.copy_id ORDER BY copies.group_id, copies.copy", connection).assign(
        gold_rate=lambda t: (t.gold_correct / t.gold_answered.replace(0, np.nan)).round(3),
        submitted=lambda t: t.submitted.astype(bool), decision=lambda t: t.decision.fillna(""))


def annotator_progress(copies: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: copies, answered / total, submitted copies and the live gold rate."""
    if copies.empty:
        return pd.DataFrame(columns=["annotator", "copies", "answered", "total", "submitted", "gold_rate"])
    table = copies.groupby("annotator").agg(copies=("copy", "size"), answered=("answered", "sum"),
                                            total=("total", "sum"), submitted=("submitted", "sum"),
                                            gold_answered=("gold_answered", "sum"),
                                            gold_correct=("gold_correct", "sum"))
    table["gold_rate"] = (table.gold_correct / table.gold_answered.replace(0, np.nan)).round(3)
    return table.drop(columns=["gold_answered", "gold_correct"]).reset_index()


def kappa_so_far(connection: sqlite3.Connection) -> tuple[float, int]:
    """Fleiss' κ over the non-gold clips that have at least two crowd answers so far (PASS left
    out; clips may have different numbers of raters), and how many clips that is."""
    answers = pd.read_sql_query(
        "SELECT tasks.clip_id, answers.label FROM answers JOIN tasks USING (task_id) JOIN copies USING (copy_id) "
        "JOIN clips USING (clip_id) WHERE answers.worker_id = copies.worker_id AND clips.gold IS NULL "
        "AND answers.label != ?", connection, params=(PASS,))
    counts = pd.crosstab(answers.clip_id, answers.label).reindex(columns=list(labels.EXPRESSIONS), fill_value=0)
    counts = counts[counts.sum(axis=1) >= 2]
    return (fleiss_kappa(counts.to_numpy()) if len(counts) else float("nan")), int(len(counts))


def marking_progress(connection: sqlite3.Connection) -> pd.DataFrame:
    """Per long video: frames, annotators, submitted markings and intervals marked."""
    return pd.read_sql_query(
        "SELECT long_videos.video_id AS video, long_videos.frames, COUNT(DISTINCT markings.worker_id) AS annotators, "
        "COUNT(DISTINCT CASE WHEN markings.submitted IS NOT NULL THEN markings.marking_id END) AS submitted, "
        "COUNT(marks.mark_id) AS intervals FROM long_videos LEFT JOIN markings USING (video_id) "
        "LEFT JOIN marks USING (marking_id) GROUP BY long_videos.video_id ORDER BY long_videos.video_id", connection)
