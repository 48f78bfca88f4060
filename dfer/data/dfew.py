"""Reader for DFEW as released (Jiang et al., ACM MM 2020; the layout of its official release).

Layout under ``root``::

    Clip/original/00001.mp4
    Clip/clip_224x224/00001/00001_00001.jpg …      aligned faces, all frames
    Clip/clip_224x224_16f/00001/1.jpg … 16.jpg     TIM-normalised to 16 frames (numeric order)
    EmoLabel_DataSplit/train(single-labeled)/set_1.csv … set_5.csv   header video_name,label
    EmoLabel_DataSplit/test(single-labeled)/set_1.csv … set_5.csv
    Annotation/annotation.xlsx                     per-clip vote counts (optional)

Labels in the CSVs are DFEW integers 1..7 and are mapped through :func:`dfer.labels.from_dfew`.
Frame counts come from the files on disk, never from a list file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.records import ProblemLog, assemble_folds, list_frames, make_table
from dfer.errors import InputError
from dfer.io.frames import count_video_frames

SOURCES = ("clip_224x224", "clip_224x224_16f", "original")
FOLDS = (1, 2, 3, 4, 5)
SPLIT_DIRS = {"train": "train(single-labeled)", "test": "test(single-labeled)"}


def split_file(root: Path, split: str, fold: int) -> Path:
    """Path of DFEW's ``set_{fold}.csv`` for ``split`` (train or test)."""
    return Path(root) / "EmoLabel_DataSplit" / SPLIT_DIRS[split] / f"set_{fold}.csv"


def clip_id(raw) -> str:
    """DFEW clip id padded to 5 digits (the CSVs hold ``7`` or ``00007``)."""
    text = str(raw).strip()
    if not text.isdigit():
        raise InputError(f"video_name {raw!r} is not a numeric clip id")
    return text.zfill(5)


def read_split_csv(path: Path, log: ProblemLog) -> dict[str, tuple[int, int]]:
    """``{clip_id: (canonical label, row)}`` from one split CSV, reporting bad rows to ``log``."""
    path = Path(path)
    if not path.is_file():
        log.add(path, "split file not found")
        return {}
    entries: dict[str, tuple[int, int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["video_name", "label"]:
            log.add(path, f"expected the header 'video_name,label', found {header!r}", row=1)
            return {}
        for row_number, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                log.add(path, f"expected 'video_name,label', found {row!r}", row=row_number)
                continue
            try:
                key = clip_id(row[0])
                label = labels.from_dfew(row[1])
            except ValueError as error:
                log.add(path, str(error), row=row_number)
                continue
            if key in entries:
                log.add(path, f"clip {key} listed twice", row=row_number)
                continue
            entries[key] = (label, row_number)
    return entries


def read_votes(root: Path, log: ProblemLog) -> dict[str, tuple[int, ...]]:
    """Vote counts per clip from ``Annotation/annotation.xlsx``, in canonical class order.

    The exact release headers are unverified, so the sheet is read by meaning: a clip-id column
    (``video_name``/``order``/``id``/first column) and one column per expression, recognised by
    name (``happy``/``happiness``, ``anger``/``angry`` …). Missing file → empty dict.
    """
    path = Path(root) / "Annotation" / "annotation.xlsx"
    if not path.is_file():
        return {}
    try:
        sheet = pd.read_excel(path, sheet_name=0)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        log.add(path, f"cannot read as an Excel workbook ({error})")
        return {}
    columns: dict[int, str] = {}
    for column in sheet.columns:
        key = str(column).strip().lower().lstrip("0123456789_ -")
        if key in labels.SYNONYMS:
            columns[labels.INDEX[labels.SYNONYMS[key]]] = column
    if sorted(columns) != list(range(labels.NUM_CLASSES)):
        missing = [labels.EXPRESSIONS[i] for i in range(labels.NUM_CLASSES) if i not in columns]
        log.add(path, f"expected one vote column per expression; missing {missing}", row=1)
        return {}
    id_candidates = [c for c in sheet.columns if str(c).strip().lower() in ("video_name", "order", "id", "clip")]
    id_column = id_candidates[0] if id_candidates else sheet.columns[0]
    votes: dict[str, tuple[int, ...]] = {}
    for row_number, row in enumerate(sheet.itertuples(index=False), start=2):
        record = dict(zip(sheet.columns, row))
        try:
            key = clip_id(int(record[id_column]) if isinstance(record[id_column], float) else record[id_column])
            counts = tuple(int(record[columns[i]]) for i in range(labels.NUM_CLASSES))
        except (ValueError, TypeError) as error:
            log.add(path, f"bad row ({error})", row=row_number)
            continue
        if min(counts) < 0:
            log.add(path, f"negative vote count {counts}", row=row_number)
            continue
        votes[key] = counts
    return votes


def read_dfew(
    root: Path,
    fold: int | None = None,
    source: str = "clip_224x224",
    errors: str = "raise",
) -> pd.DataFrame:
    """Clip table of DFEW's single-labeled clips.

    ``fold`` (1..5) sets ``split`` to train/test from that fold's CSVs; ``None`` returns every
    single-labeled clip with ``split`` empty. ``fold`` is always the fold whose test set holds the
    clip. ``source`` picks the frames: ``clip_224x224``, ``clip_224x224_16f`` or the ``original``
    videos. Votes from the annotation workbook are added as a ``votes`` column when present.
    """
    root = Path(root)
    if source not in SOURCES:
        raise InputError(f"unknown DFEW source {source!r}; expected one of {', '.join(SOURCES)}")
    if fold is not None and fold not in FOLDS:
        raise InputError(f"DFEW fold must be one of {FOLDS}, got {fold!r}")
    log = ProblemLog(errors)
    if not (root / "EmoLabel_DataSplit").is_dir():
        log.add(root, "not a DFEW root: no EmoLabel_DataSplit folder")
        return log.attach(make_table([]))

    test_sets = {f: read_split_csv(split_file(root, "test", f), log) for f in FOLDS}
    train = read_split_csv(split_file(root, "train", fold), log) if fold is not None else None
    label_of, fold_of, split_of = assemble_folds(
        test_sets, train, fold, lambda f: split_file(root, "test", f),
        split_file(root, "train", fold) if fold is not None else None, log, labels.to_dfew)

    votes = read_votes(root, log)
    rows = []
    for key in sorted(split_of if fold is not None else label_of):
        row = {"clip_id": key, "dataset": "dfew", "label": label_of[key], "fold": fold_of.get(key, 0),
               "split": split_of.get(key, "")}
        if votes:
            row["votes"] = votes.get(key)
        if source == "original":
            video = root / "Clip" / "original" / f"{key}.mp4"
            if not video.is_file():
                log.add(video, f"video of clip {key} not found")
                continue
            row.update(video=str(video), num_frames=count_video_frames(video))
        else:
            folder = root / "Clip" / source / key
            frames = list_frames(folder)
            if not frames:
                log.add(folder, f"frame folder of clip {key} {'is empty' if folder.is_dir() else 'not found'}")
                continue
            row.update(frames=frames, num_frames=len(frames))
            original = root / "Clip" / "original" / f"{key}.mp4"
            row["video"] = str(original) if original.is_file() else None
        rows.append(row)
    return log.attach(make_table(rows))

