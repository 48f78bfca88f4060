"""Errors that name the file (and row) at fault and say what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset copy: where (file and row) and what was expected."""

    path: str
    message: str
    row: int | None = None

    def __str__(self) -> str:
        where = self.path if self.row is None else f"{self.path}, row {self.row}"
        return f"{where}: {self.message}"


class DatasetError(ValueError):
    """A dataset file or folder is not what a reader expected; the message names it."""

    def __init__(self, path, message: str, row: int | None = None):
        super().__init__(str(Problem(str(path), message, row)))
        self.path = Path(path)
        self.row = row


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a non-finite loss); the message says what was kept."""
