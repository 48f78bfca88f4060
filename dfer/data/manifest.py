"""Reader for users' own data: a manifest table (CSV or Parquet).

Columns: ``path`` (a video file or a folder of frame images, relative to the manifest's folder
or absolute) and ``label`` (an expression name such as ``happy``; empty for unlabeled clips),
optionally ``split`` (train/val/test), ``scene``, ``subject`` and ``clip_id``. Integer labels are
refused: their class order would be a guess.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.records import VIDEO_SUFFIXES, ProblemLog, list_frames, make_table
from dfer.errors import DatasetError
from dfer.io.frames import count_video_frames

REQUIRED = ("path", "label")
OPTIONAL = ("split", "scene", "subject", "clip_id")
SPLITS = ("train", "val", "test", "")


def load_manifest_table(path: Path) -> pd.DataFrame:
    """The manifest file as strings, CSV or Parquet by suffix, column names stripped and lower-cased."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, "manifest not found")
    if path.suffix.lower() not in (".parquet", ".csv", ".tsv", ".txt"):
        raise DatasetError(path, "expected a .csv, .tsv or .parquet manifest")
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path).astype("string").fillna("")
        else:
            separator = "\t" if path.suffix.lower() == ".tsv" else ","
            table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=separator)
    except (ValueError, OSError) as error:
        raise DatasetError(path, f"cannot read the manifest ({error})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table


def read_manifest(path: Path, errors: str = "raise") -> pd.DataFrame:
    """Clip table of a manifest; each row's frames come from its folder or video on disk."""
    path = Path(path)
    log = ProblemLog(errors)
    frame = load_manifest_table(path)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DatasetError(path, f"missing column(s) {missing}; expected {list(REQUIRED)} plus optional {list(OPTIONAL)}", row=1)
    base = path.parent
    rows, seen = [], set()
    for row_number, record in enumerate(frame.to_dict("records"), start=2):
        source = Path(str(record["path"]).strip())
        if not str(source):
            log.add(path, "empty path", row=row_number)
            continue
        source = source if source.is_absolute() else base / source
        label_text = str(record["label"]).strip()
        if label_text.lstrip("-").isdigit():
            log.add(path, f"label {label_text!r} is a number; write the expression name "
                    f"({', '.join(labels.EXPRESSIONS)})", row=row_number)
            continue
        try:
            label = labels.canonical(label_text) if label_text else -1
        except ValueError as error:
            log.add(path, str(error), row=row_number)
            continue
        split = str(record.get("split", "")).strip().lower()
        if split not in SPLITS:
            log.add(path, f"split {split!r} is not one of train, val, test", row=row_number)
            continue
        key = str(record.get("clip_id", "")).strip() or str(record["path"]).strip()
        if key in seen:
            log.add(path, f"clip {key!r} listed twice", row=row_number)
            continue
        row = {"clip_id": key, "dataset": "manifest", "label": label, "split": split,
               "scene": str(record.get("scene", "")).strip(), "subject": str(record.get("subject", "")).strip()}
        if source.is_dir():
            frames = list_frames(source)
            if not frames:
                log.add(path, f"frame folder {source} holds no images", row=row_number)
                continue
            row.update(frames=frames, num_frames=len(frames))
        elif source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
            try:
                row.update(video=str(source), num_frames=count_video_frames(source))
            except DatasetError as error:
                log.add(path, str(error), row=row_number)
                continue
        else:
            log.add(path, f"{source} is neither a frame folder nor a video "
                    f"({', '.join(VIDEO_SUFFIXES)})", row=row_number)
            continue
        seen.add(key)
        rows.append(row)
    return log.attach(make_table(rows))
