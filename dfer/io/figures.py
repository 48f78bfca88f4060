"""Figures of every report: one colour per expression, and PNG output that is never half-written.

Every plot in dfer is drawn with matplotlib's non-interactive Agg backend (set here, before pyplot
is first imported) and saved through :func:`save_png` or :func:`png_base64`, which also close it.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dfer.io.atomic import atomic_path  # noqa: E402

#: One colour per expression (canonical names), used in every plot and table.
COLOURS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
           "neutral": "#9e9e9e", "sad": "#1f77b4", "surprise": "#2ca02c"}


def save_png(figure, path: str | Path, dpi: int = 100, close: bool = True) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically (a kill never leaves half an image); close
    it unless ``close`` is False."""
    path = Path(path)
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png", dpi=dpi)
    if close:
        plt.close(figure)
    return path


def png_base64(figure, dpi: int = 90) -> str:
    """``figure`` as base64-encoded PNG (for self-contained HTML), closed afterwards."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()
