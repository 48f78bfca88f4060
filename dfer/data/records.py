"""The clip-record table every reader returns, and helpers shared by the readers.

A clip table is a :class:`pandas.DataFrame` with one row per clip and the columns of
:data:`COLUMNS`. ``frames`` and ``scene_frames`` hold tuples of image paths in temporal order;
``label`` is a canonical index (:mod:`dfer.labels`) or -1 when unknown; a reader whose dataset has
its own vocabulary (MAFW's 11 classes) says so in ``table.attrs["classes"]``, the class names its
labels index (:func:`make_table` sets ``labels.EXPRESSIONS`` unless told otherwise).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from dfer import labels
from dfer.errors import DatasetError, InputError, Problem

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")

#: Column name → meaning, in table order.
COLUMNS: dict[str, str] = {
    "clip_id": "identifier, unique within the dataset",
    "dataset": "reader that produced the row (dfew, ferv39k, afew, caer, mafw, manifest)",
    "frames": "tuple of face-frame image paths in temporal order, or None",
    "video": "path of the source video, or None",
    "scene_frames": "tuple of scene-frame image paths (FERV39k), or None",
    "label": "index into table.attrs['classes'] (default dfer.labels.EXPRESSIONS), -1 if unknown",
    "split": "train, val or test; empty if the source gives none",
    "fold": "DFEW/MAFW fold whose test set holds the clip (1..5), else 0",
    "scene": "FERV39k scene folder or user scene, else empty",
    "scenario": "FERV39k scenario (DL, WIS, SIA, AI), else empty",
    "subject": "subject / identity if known, else empty",
    "num_frames": "number of frames counted on disk",
}


class ProblemLog:
    """Collects a reader's problems; raises on the first one unless asked to collect them all.

    Readers take ``errors="raise"`` (the default: any problem stops the read with a
    :class:`DatasetError`) or ``errors="collect"`` (used by ``dfer data check``: every problem is
    recorded and the readable rows are still returned, with the problems in
    ``table.attrs["problems"]``).
    """

    def __init__(self, errors: str = "raise"):
        if errors not in ("raise", "collect"):
            raise InputError(f"errors must be 'raise' or 'collect', got {errors!r}")
        self.errors = errors
        self.problems: list[Problem] = []

    def add(self, path, message: str, row: int | None = None) -> None:
        if self.errors == "raise":
            raise DatasetError(path, message, row)
        self.problems.append(Problem(str(path), message, row))

    def attach(self, table: pd.DataFrame) -> pd.DataFrame:
        table.attrs["problems"] = list(self.problems)
        return table


def make_table(rows: Iterable[dict], classes: tuple[str, ...] = labels.EXPRESSIONS) -> pd.DataFrame:
    """Build a clip table from row dicts, filling missing columns with their empty value; ``classes``
    (the names the labels index) goes to ``table.attrs["classes"]``."""
    defaults = {
        "frames": None, "video": None, "scene_frames": None, "label": -1, "split": "",
        "fold": 0, "scene": "", "scenario": "", "subject": "", "num_frames": 0,
    }
    rows = [{**defaults, **row} for row in rows]
    extras = [key for key in (rows[0] if rows else {}) if key not in COLUMNS]
    table = pd.DataFrame(rows, columns=list(COLUMNS) + extras)
    table.attrs["classes"] = tuple(classes)
    if table.empty:
        return table
    table["label"] = table["label"].astype(int)
    table["fold"] = table["fold"].astype(int)
    table["num_frames"] = table["num_frames"].astype(int)
    return table.reset_index(drop=True)


_NUMBER = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders ``2.jpg`` before ``10.jpg`` and ``a_9`` before ``a_10``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _NUMBER.split(name))


def list_frames(folder: Path) -> tuple[str, ...]:
    """Image files in ``folder`` in numeric (natural) order; empty if the folder is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        return ()
    names = [p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return tuple(str(folder / name) for name in sorted(names, key=natural_key))


def carve_validation(
    table: pd.DataFrame, fraction: float = 0.1, seed: int = 0, by: str = "label"
) -> pd.DataFrame:
    """Move a stratified, seeded ``fraction`` of the ``train`` rows to ``split == 'val'``.

    Test rows are never touched, so model selection never sees the test split. Classes too small
    to stratify fall back to a plain seeded split. What was carved is recorded in
    ``table.attrs["validation"]`` (fraction, seed, stratification, clip ids) for the run's records.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise InputError(f"validation fraction must be in (0, 1), got {fraction}")
    table = table.copy()
    train_index = table.index[table["split"] == "train"]
    if len(train_index) < 2:
        raise InputError("need at least 2 training clips to carve a validation split")
    strata = table.loc[train_index, by].to_numpy()
    counts = pd.Series(strata).value_counts()
    n_val = max(1, int(round(fraction * len(train_index))))
    stratify = strata if counts.min() >= 2 and n_val >= len(counts) else None
    _, val_index = train_test_split(
        np.asarray(train_index), test_size=n_val, random_state=seed, stratify=stratify
    )
    table.loc[val_index, "split"] = "val"
    table.attrs["validation"] = {"fraction": fraction, "seed": seed, "stratified_by": by if stratify is not None else None,
                                 "clips": len(val_index), "clip_ids": sorted(table.loc[val_index, "clip_id"])}
    return table


def summarize_splits(table: pd.DataFrame) -> dict[str, int]:
    """Clip count per split (for run records and summaries)."""
    return {str(k): int(v) for k, v in table["split"].value_counts().sort_index().items()}


def assemble_folds(test_sets: dict[int, dict[str, tuple[int, int]]], train: dict[str, tuple[int, int]] | None,
                   fold: int | None, test_file, train_file: Path | None, log: ProblemLog,
                   label_name) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """The clips of a k-fold release (DFEW, MAFW) from its split files: ``{clip: label}``,
    ``{clip: fold whose test set holds it}`` and, for ``fold``, ``{clip: train | test}``.

    ``test_sets`` maps each fold to its test file's ``{clip: (label, row)}``, ``train`` is the
    train file of ``fold`` (None without a fold); ``test_file(f)`` and ``train_file`` name the
    files and ``label_name(label)`` a label as the release spells it, for the problems reported to
    ``log``: a clip in two folds' test sets, in both train and test, or labelled two ways.
    """
    label_of: dict[str, int] = {}
    fold_of: dict[str, int] = {}
    for f, entries in test_sets.items():
        for key, (label, row_number) in entries.items():
            if key in fold_of:
                log.add(test_file(f), f"clip {key} is also in the test set of fold {fold_of[key]}", row=row_number)
                continue
            fold_of[key], label_of[key] = f, label
    split_of: dict[str, str] = {}
    if fold is not None:
        for key, (label, row_number) in (train or {}).items():
            if key in test_sets[fold]:
                log.add(train_file, f"clip {key} is in both train and test of fold {fold}", row=row_number)
                continue
            if key in label_of and label_of[key] != label:
                log.add(train_file, f"clip {key} has label {label_name(label)} here but "
                        f"{label_name(label_of[key])} in the test set of fold {fold_of[key]}", row=row_number)
            label_of.setdefault(key, label)
            split_of[key] = "train"
        split_of.update({key: "test" for key in test_sets[fold]})
    return label_of, fold_of, split_of


def has_paths(value) -> bool:
    """Whether a ``frames``/``scene_frames`` cell holds a non-empty sequence of paths."""
    return isinstance(value, (tuple, list, np.ndarray)) and len(value) > 0


def has_value(value) -> bool:
    """Whether a string cell (``video``, ``store``) is set (not None, NaN or empty)."""
    return isinstance(value, (str, os.PathLike)) and str(value) != ""
