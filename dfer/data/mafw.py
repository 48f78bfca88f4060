"""Reader for MAFW's single-label set (Liu et al., "MAFW: A Large-scale, Multi-modal, Compound
Affective Database for Dynamic Facial Expression Recognition in the Wild", ACM MM 2022).

Layout read under ``root``::

    data/clips/00025.mp4                                   the clips
    data/frames/00025/*.jpg|png                            the clips' frames (read in numeric order)
    Train & Test Set/single/no_caption/set_1/train.txt     5 folds, set_1 … set_5, each with
    Train & Test Set/single/no_caption/set_1/test.txt      train.txt and test.txt

Split files have no header, one clip per line: ``00025.mp4 anger`` (the clip's file name, a space,
its class in MAFW's own spelling). Labels are indices into :data:`dfer.labels.MAFW_EXPRESSIONS`
(11 classes), not canonical ones: the table records its vocabulary in ``table.attrs["classes"]``,
and :func:`shared_classes` keeps the 7 classes dfer's vocabulary shares, relabelled canonically.

The release's README shows the top-level ``data`` (``clips``, ``frames``), ``Labels`` and
``Train & Test Set`` (``single``, ``compound``) folders; the deeper paths and the line format above
follow the preprocessing scripts published with MAE-DFER (Sun et al., ACM MM 2023) and others.
Not verified: the names of the frame files and whether ``data/frames`` holds face crops or whole
frames, so the default source is the clips. The ``Labels`` spreadsheets are not read.
Frame counts come from the files on disk.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.records import ProblemLog, assemble_folds, list_frames, make_table
from dfer.errors import DatasetError, InputError
from dfer.io.frames import count_video_frames

SPLIT_ROOT = "Train & Test Set/single/no_caption"
CLIPS_DIR = "data/clips"
FRAMES_DIR = "data/frames"
SOURCES = ("clips", "frames")
FOLDS = (1, 2, 3, 4, 5)


def split_file(root: Path, split: str, fold: int) -> Path:
    """Path of MAFW's ``set_{fold}/{split}.txt`` (split train or test)."""
    return Path(root) / SPLIT_ROOT / f"set_{fold}" / f"{split}.txt"


def is_mafw_root(root: Path) -> bool:
    """Whether ``root`` holds MAFW's ``Train & Test Set`` or ``data/clips`` folder."""
    return (Path(root) / "Train & Test Set").is_dir() or (Path(root) / CLIPS_DIR).is_dir()


def read_split_file(path: Path, log: ProblemLog) -> dict[str, tuple[int, int]]:
    """``{clip_id: (MAFW label index, row)}`` from one split file, reporting bad rows to ``log``."""
    path = Path(path)
    if not path.is_file():
        log.add(path, "split file not found")
        return {}
    entries: dict[str, tuple[int, int]] = {}
    with open(path, encoding="utf-8-sig") as handle:
        for row_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                log.add(path, f"expected '<clip>.mp4 <class>', found {line.strip()!r}", row=row_number)
                continue
            name, label_name = parts
            key = name[:-4] if name.lower().endswith(".mp4") else name
            if not key.isdigit():
                log.add(path, f"clip name {name!r} is not a numbered clip like 00025.mp4", row=row_number)
                continue
            try:
                label = labels.from_mafw(label_name)
            except ValueError as error:
                log.add(path, str(error), row=row_number)
                continue
            if key in entries:
                log.add(path, f"clip {key} listed twice", row=row_number)
                continue
            entries[key] = (label, row_number)
    return entries


def read_mafw(root: Path, fold: int | None = None, source: str = "clips", errors: str = "raise") -> pd.DataFrame:
    """Clip table of MAFW's single-label clips.

    ``fold`` (1..5) sets ``split`` to train/test from that fold's files; ``None`` returns every
    clip of the five test files with ``split`` empty. ``fold`` is always the fold whose test set
    holds the clip. ``source`` is ``clips`` (the videos) or ``frames`` (the frame folders).
    """
    root = Path(root)
    if source not in SOURCES:
        raise InputError(f"unknown MAFW source {source!r}; expected one of {', '.join(SOURCES)}")
    if fold is not None and fold not in FOLDS:
        raise InputError(f"MAFW fold must be one of {FOLDS}, got {fold!r}")
    log = ProblemLog(errors)
    if not (root / SPLIT_ROOT).is_dir():
        log.add(root / SPLIT_ROOT, "not a MAFW root: no single-label split folder")
        return log.attach(make_table([], classes=labels.MAFW_EXPRESSIONS))

    test_sets = {f: read_split_file(split_file(root, "test", f), log) for f in FOLDS}
    train = read_split_file(split_file(root, "train", fold), log) if fold is not None else None
    label_of, fold_of, split_of = assemble_folds(
        test_sets, train, fold, lambda f: split_file(root, "test", f),
        split_file(root, "train", fold) if fold is not None else None, log, labels.to_mafw)

    rows = []
    for key in sorted(split_of if fold is not None else label_of):
        row = {"clip_id": key, "dataset": "mafw", "label": label_of[key], "fold": fold_of.get(key, 0),
               "split": split_of.get(key, "")}
        video = root / CLIPS_DIR / f"{key}.mp4"
        row["video"] = str(video) if video.is_file() else None
        if source == "clips":
            if row["video"] is None:
                log.add(video, f"clip {key} not found")
                continue
            try:
                row["num_frames"] = count_video_frames(video)
            except DatasetError as error:
                log.add(video, str(error).removeprefix(f"{video}: "))
                continue
            if row["num_frames"] == 0:
                log.add(video, "the video has no frames")
                continue
        else:
            folder = root / FRAMES_DIR / key
            frames = list_frames(folder)
            if not frames:
                log.add(folder, f"frame folder of clip {key} {'is empty' if folder.is_dir() else 'not found'}")
                continue
            row.update(frames=frames, num_frames=len(frames))
        rows.append(row)
    return log.attach(make_table(rows, classes=labels.MAFW_EXPRESSIONS))


def shared_classes(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a MAFW table whose class dfer's vocabulary shares, labelled canonically.

    Rows of contempt, anxiety, helplessness and disappointment are dropped (see
    :func:`dfer.labels.mafw_to_canonical`); ``attrs["classes"]`` becomes ``labels.EXPRESSIONS``.
    """
    if tuple(table.attrs.get("classes", ())) != labels.MAFW_EXPRESSIONS:
        raise InputError("shared_classes expects a MAFW table (attrs['classes'] = labels.MAFW_EXPRESSIONS)")
    canonical = table["label"].map(labels.mafw_to_canonical)
    shared = table[canonical >= 0].assign(label=canonical[canonical >= 0]).reset_index(drop=True)
    shared.attrs = {**table.attrs, "classes": labels.EXPRESSIONS}
    return shared

