"""A per-video frame progress bar, shown only on a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from tqdm import tqdm


@contextmanager
def frame_progress(name: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """An ``on_frame(done, total)`` callback driving a bar named ``name`` (total 0: unknown)."""
    with tqdm(desc=name[:30], unit="frame", leave=False, disable=not (enabled and sys.stderr.isatty())) as bar:
        def on_frame(done: int, total: int) -> None:
            bar.total = max(total, done) if total else None
            bar.update(done - bar.n)

        yield on_frame
