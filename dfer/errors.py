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


class InputError(ValueError):
    """Input the user can fix — an option, a value, a file — and the message says what was expected.

    ``dfer`` prints these as one line and exits with status 2; any other exception is a bug in dfer
    and is reported as one (:func:`dfer.cli.main`).
    """


class DatasetError(InputError):
    """A dataset file or folder is not what a reader expected; the message names it."""

    def __init__(self, path, message: str, row: int | None = None):
        super().__init__(str(Problem(str(path), message, row)))
        self.path = Path(path)
        self.row = row


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a non-finite loss); the message says what was kept."""
