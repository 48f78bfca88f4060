"""Recognise a dataset copy on disk and read it with the right reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer.data.afew import is_afew_root, read_afew
from dfer.data.caer import is_caer_root, read_caer
from dfer.data.dfew import read_dfew
from dfer.data.ferv39k import read_ferv39k
from dfer.data.mafw import is_mafw_root, read_mafw
from dfer.data.manifest import read_manifest
from dfer.errors import DatasetError, InputError

FORMATS = ("dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "packed")
MANIFEST_NAMES = ("manifest.csv", "manifest.parquet")


def detect_format(root: Path) -> str:
    """One of :data:`FORMATS`, from the files under ``root``."""
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() in (".csv", ".tsv", ".parquet"):
            return "manifest"
        raise DatasetError(root, "expected a dataset folder or a manifest (.csv/.parquet)")
    if not root.is_dir():
        raise DatasetError(root, "no such file or folder")
    if (root / "store.json").is_file():
        return "packed"
    if (root / "EmoLabel_DataSplit").is_dir() or (root / "Clip").is_dir():
        return "dfew"
    if (root / "4_setups").is_dir() or (root / "2_ClipsforFaceCrop").is_dir():
        return "ferv39k"
    if is_mafw_root(root):
        return "mafw"
    if any((root / name).is_file() for name in MANIFEST_NAMES):
        return "manifest"
    if is_afew_root(root):
        return "afew"
    if is_caer_root(root):
        return "caer"
    raise DatasetError(root, "not a recognised dataset: expected a DFEW root (EmoLabel_DataSplit/, Clip/), "
                       "a FERV39k root (4_setups/, 2_ClipsforFaceCrop/), a MAFW root (Train & Test Set/, "
                       "data/clips/), an AFEW root (Train/ or Val/ with Angry/ … Surprise/), a CAER root "
                       "(train/, validation/ or test/ with Anger/ … Surprise/), a packed store (store.json) "
                       "or a manifest (.csv/.parquet, or a folder holding manifest.csv)")


#: The image source each reader uses when none is asked for.
DEFAULT_SOURCES = {"dfew": "clip_224x224", "ferv39k": "faces", "mafw": "clips"}


def reader_options(format: str, fold: int | None = None, setup: str = "All", source: str | None = None,
                   with_scene: bool = False) -> dict:
    """The options :func:`read_dataset` passes to ``format``'s reader, from settings that may not
    apply to it (a fold for FERV39k, a setup for DFEW); ``source`` defaults per format
    (:data:`DEFAULT_SOURCES`). Scene frames exist only in FERV39k: ``with_scene`` for AFEW, CAER or
    MAFW is refused (their videos hold whole frames; ``dfer preprocess`` writes scene frames)."""
    if with_scene and format in ("afew", "caer", "mafw"):
        raise InputError(f"{format} has no scene frames on disk: its videos hold whole frames, so read them "
                         "without scenes, or run `dfer preprocess` on the videos for face crops and scene frames")
    if format == "dfew":
        return {"fold": fold, "source": source or DEFAULT_SOURCES["dfew"]}
    if format == "ferv39k":
        return {"setup": setup, "source": source or DEFAULT_SOURCES["ferv39k"], "with_scene": with_scene}
    if format == "mafw":
        return {"fold": fold, "source": source or DEFAULT_SOURCES["mafw"]}
    return {}


def read_dataset(root: Path, format: str | None = None, errors: str = "raise", **options) -> pd.DataFrame:
    """Clip table of any supported dataset; ``options`` go to the format's reader.

    DFEW takes ``fold`` and ``source``; FERV39k ``setup``, ``source`` and ``with_scene``; MAFW
    ``fold`` and ``source``; AFEW and CAER none. The reader's ``table.attrs`` (``problems``, and
    ``classes``, the vocabulary its labels index) come back unchanged.
    """
    root = Path(root)
    format = format or detect_format(root)
    readers = {"dfew": read_dfew, "ferv39k": read_ferv39k, "afew": read_afew, "caer": read_caer, "mafw": read_mafw}
    if format in readers:
        return readers[format](root, errors=errors, **options)
    if format == "manifest":
        if root.is_dir():
            root = next(root / name for name in MANIFEST_NAMES if (root / name).is_file())
        return read_manifest(root, errors=errors, **options)
    if format == "packed":
        from dfer.data.packed import open_store

        return open_store(root)
    raise InputError(f"unknown dataset format {format!r}; expected one of {', '.join(FORMATS)}")
