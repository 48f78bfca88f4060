"""File digests (asset checks, model cards, the ONNX record)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_sha256(root: str | Path) -> str:
    """One SHA-256 over every file under ``root``: each relative path (POSIX) and its bytes, in
    sorted path order; equal trees give equal digests wherever they lie."""
    digest = hashlib.sha256()
    root = Path(root)
    for path in sorted(path for path in root.rglob("*") if path.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + bytes.fromhex(sha256(path)))
    return digest.hexdigest()
