"""Writing files so that a kill never leaves one half-written: write a sibling, then rename."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from dfer.errors import DatasetError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write; renamed over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()


@contextmanager
def replaced_folder(path: str | Path, owned: set[str] | None = None) -> Iterator[Path]:
    """A staging folder to fill; when the block succeeds it replaces the folder ``path`` whole, so
    ``path`` holds either the old set of files or the new one, never a mix (a kill between the two
    renames leaves the old set beside it as ``.NAME.old``, which the next call puts back first). On
    failure the staging folder is removed and ``path`` is untouched.

    ``owned``: the only names the folder may already hold; a folder with anything else in it (the
    user's own files) is refused rather than replaced, as is a file in the way.
    """
    path = Path(path)
    staging, old = path.with_name(f".{path.name}.partial"), path.with_name(f".{path.name}.old")
    if old.is_dir() and not path.exists():  # a kill between the renames of an earlier call
        os.replace(old, path)
    if path.exists() and not path.is_dir():
        raise DatasetError(path, "exists and is not a folder; give a folder for the outputs")
    if path.is_dir() and owned is not None:
        foreign = sorted(p.name for p in path.iterdir() if p.name not in owned)
        if foreign:
            raise DatasetError(path, f"holds files that are not dfer's outputs (e.g. {foreign[0]!r}); give an empty "
                                     "or new folder")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_json(path: str | Path, data) -> None:
    """``data`` as indented JSON, atomically (numpy scalars and arrays as numbers and lists, other
    objects such as paths as strings)."""
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """A table as Parquet or CSV (by suffix), atomically."""
    path = Path(path)
    with atomic_path(path) as partial:
        if path.suffix == ".parquet":
            table.to_parquet(partial, index=False)
        else:
            table.to_csv(partial, index=False)


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard-link ``source`` at ``target`` (no extra space), copying where links are not possible
    (another file system); creates ``target``'s folder."""
    import os
    import shutil

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
