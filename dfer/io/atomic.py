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
