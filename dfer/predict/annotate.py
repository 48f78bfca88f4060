"""The annotated video of a prediction (``dfer predict --video-out``): the input's every frame with
each face's box, track id, top expression and its probability, and a bar per expression.

Streaming: the input is decoded once, front to back, and each frame is drawn and encoded as it
comes, so memory stays flat with the video's length; the output has the input's fps and as many
frames as were decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from dfer import labels
from dfer.io.figures import COLOURS
from dfer.io.video import iter_frames, probe, write_video


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


BAR_COLOURS = {name: _rgb(COLOURS[name]) for name in labels.EXPRESSIONS}


def draw_face(image: np.ndarray, row) -> None:
    """Draw one face of the frame table (box, ``track: label p``, one bar per expression) on an RGB
    ``image`` in place."""
    height, width = image.shape[:2]
    left, top, right, bottom = (int(round(v)) for v in (row.left, row.top, row.right, row.bottom))
    colour = BAR_COLOURS.get(row.label, (255, 255, 255))
    thickness = max(1, round(min(height, width) / 360))
    cv2.rectangle(image, (left, top), (right, bottom), colour, thickness)
    scale = max(0.4, min(height, width) / 720)
    text = f"{int(row.track)}: {row.label} {float(row.confidence):.0%}"
    (text_width, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    y = max(text_height + baseline, top - 4)
    cv2.rectangle(image, (left, y - text_height - baseline), (left + text_width, y + baseline // 2), (0, 0, 0), -1)
    cv2.putText(image, text, (left, y - baseline // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness,
                cv2.LINE_AA)
    # the bars beside the box (right of it, else left), so that they never cover the face
    bar_height = max(3, (bottom - top) // 14)
    panel = max(40, (right - left) // 2)
    x = right + 4 if right + 4 + panel <= width else max(0, left - 4 - panel)
    y = max(0, min(top, height - bar_height * len(labels.EXPRESSIONS)))
    small = bar_height / 36
    for index, name in enumerate(labels.EXPRESSIONS):
        row_top = y + index * bar_height
        cv2.rectangle(image, (x, row_top), (x + panel, row_top + bar_height - 1), (40, 40, 40), -1)
        filled = int(round(float(getattr(row, name)) * panel))
        if filled:
            cv2.rectangle(image, (x, row_top), (x + filled, row_top + bar_height - 1), BAR_COLOURS[name], -1)
        if bar_height >= 10:
            cv2.putText(image, name[:3], (x + 2, row_top + bar_height - 3), cv2.FONT_HERSHEY_SIMPLEX, small,
                        (255, 255, 255), 1, cv2.LINE_AA)


def annotated_frames(video: str | Path, frames: pd.DataFrame) -> Iterator[np.ndarray]:
    """The video's frames, decoded once, each with the faces the frame table gives for it drawn."""
    by_frame = {int(frame): rows for frame, rows in frames.groupby("frame")} if len(frames) else {}
    for decoded in iter_frames(video):
        image = np.ascontiguousarray(decoded.image)
        for row in by_frame.get(decoded.index, pd.DataFrame()).itertuples():
            draw_face(image, row)
        yield image


def write_annotated(video: str | Path, frames: pd.DataFrame, target: str | Path) -> int:
    """Write the annotated video to ``target`` (atomically) at the input's fps; returns its frames."""
    info = probe(video)
    return write_video(target, annotated_frames(video, frames), info.fps if info.fps > 0 else 25.0)
