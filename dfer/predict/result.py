"""What ``dfer predict`` returns and keeps: options, the result of one video, its per-frame table.

:class:`PredictionResult` holds one row per face per frame (:data:`FRAME_COLUMNS`), the segments,
a few thumbnails per track (:class:`Thumbnails`) and, for a trained video model, its windows
(:data:`WINDOW_COLUMNS`); it plots, reports and saves itself (:mod:`dfer.predict.report`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from dfer import labels
from dfer.faces.track import TrackerOptions
from dfer.io.video import VideoInfo
from dfer.predict.segments import SegmentOptions

FRAME_COLUMNS = (["video", "frame", "time", "track", "left", "top", "right", "bottom"]
                 + list(labels.EXPRESSIONS) + ["label", "confidence"])
#: Per-window predictions of a trained video model (``PredictionResult.windows``, ``windows.csv``).
WINDOW_COLUMNS = ["track", "start_frame", "end_frame", "start", "end", *labels.EXPRESSIONS, "label",
                  "confidence", "located_start_frame", "located_end_frame"]


@dataclass(frozen=True)
class PredictOptions:
    """Tracking, batching, segmentation and report options of :func:`predict`."""

    tracker: TrackerOptions = TrackerOptions()
    segments: SegmentOptions = SegmentOptions()
    batch_size: int = 64
    thumbnails: int = 8  # kept per track, spread over time (memory stays flat)
    thumbnail_size: int = 96


@dataclass
class PredictionResult:
    """What :func:`predict` found in one video."""

    video: str
    info: VideoInfo
    model: str
    frames: pd.DataFrame  # one row per face per frame: FRAME_COLUMNS
    segments: pd.DataFrame  # dfer.predict.segments.SEGMENT_COLUMNS
    thumbnails: dict[int, list[tuple[float, np.ndarray]]] = field(default_factory=dict)  # track → (time, RGB)
    windows: pd.DataFrame | None = None  # per-window predictions of a video model
    seconds: float = 0.0
    options: PredictOptions = PredictOptions()
    frames_decoded: int | None = None  # frames the video decoded to (None: not counted)
    incomplete: str = ""  # why the video is shorter than its container declares ("" when it is not)

    @property
    def tracks(self) -> list[int]:
        return sorted(int(t) for t in self.frames.track.unique())

    def summary(self) -> dict:
        """Counts, speed and per-track segment summaries (what ``summary.json`` holds)."""
        per_track = {}
        for track in self.tracks:
            rows = self.frames[self.frames.track == track]
            spans = self.segments[self.segments.track == track]
            per_track[str(track)] = {
                "frames": int(len(rows)), "first": float(rows.time.min()), "last": float(rows.time.max()),
                "mean_probabilities": {name: round(float(rows[name].mean()), 4) for name in labels.EXPRESSIONS},
                "segments": spans.drop(columns="track").round(3).to_dict("records"),
            }
        return {
            "video": self.video, "model": self.model, "frames": self.info.frames or None,
            "frames_decoded": self.frames_decoded, "complete": not self.incomplete,
            **({"incomplete": self.incomplete} if self.incomplete else {}),
            "fps": round(self.info.fps, 3), "duration": round(self.info.duration, 3),
            "width": self.info.width, "height": self.info.height, "faces_found": bool(len(self.frames)),
            "tracks": per_track, "seconds": round(self.seconds, 2),
            "x_real_time": round(self.info.duration / self.seconds, 2) if self.seconds and self.info.duration else None,
            "options": asdict(self.options),
        }

    def plot(self, path: str | Path | None = None):
        """The timeline figure (see :func:`dfer.predict.report.timeline`); saved as PNG if ``path``."""
        from dfer.predict.report import timeline

        return timeline(self, path)

    def to_html(self, path: str | Path | None = None) -> str:
        """The self-contained HTML report; written to ``path`` if given."""
        from dfer.predict.report import html_report

        return html_report(self, path)

    def save(self, out: str | Path, annotated: bool = False) -> dict[str, Path]:
        """Write frames (Parquet and CSV), segments (CSV), timeline PNG, HTML report and summary.json
        (and, ``annotated``, the annotated video)."""
        from dfer.predict.report import save_result

        return save_result(self, Path(out), annotated)


class Thumbnails:
    """At most ``2 × keep`` thumbnails per track at a regular time step that doubles when full."""

    def __init__(self, keep: int, size: int, duration: float):
        self.keep, self.size = keep, size
        self.step = max(duration / keep, 1e-6) if duration else 1.0
        self.by_track: dict[int, list[tuple[float, np.ndarray]]] = {}

    def offer(self, track: int, time: float, image: np.ndarray, box) -> None:
        kept = self.by_track.setdefault(track, [])
        if kept and time - kept[-1][0] < self.step:
            return
        left, top, right, bottom = (int(round(v)) for v in box)
        height, width = image.shape[:2]
        crop = image[max(top, 0):min(bottom, height), max(left, 0):min(right, width)]
        if crop.size == 0:
            return
        kept.append((time, cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA)))
        if len(kept) > 2 * self.keep:
            self.step *= 2
            kept[:] = kept[::2]


def frame_table(rows: list[dict], probabilities: np.ndarray) -> pd.DataFrame:
    """The per-frame table from face rows and their probabilities (canonical order)."""
    table = pd.DataFrame(rows, columns=FRAME_COLUMNS[:8])
    for index, name in enumerate(labels.EXPRESSIONS):
        table[name] = probabilities[:, index].astype(np.float64) if len(table) else pd.Series(dtype=np.float64)
    best = probabilities.argmax(axis=1) if len(table) else np.zeros(0, int)
    table["label"] = [labels.EXPRESSIONS[i] for i in best]
    table["confidence"] = probabilities.max(axis=1) if len(table) else pd.Series(dtype=np.float64)
    return table[FRAME_COLUMNS]
