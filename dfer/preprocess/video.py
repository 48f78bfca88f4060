"""One video → face tracks → per-frame table, aligned face crops and scene frames.

:func:`process_video` is the unit of work every backend runs. It decodes the video once,
sequentially: decoding runs a few frames ahead in a thread, scheduled face detections run ahead in
another, faces are followed in between, lost frames are completed (and filled, SDFE-LV) a few
frames late, and every frame's scene images and face crops are written by background threads into
a work folder. The whole-video rules (DFEW's main face, face fraction and faceless frames) then
decide what is moved into the layout. All outputs are staged under ``OUT/.staging/<video>/`` and
moved into place, then the per-video table is written, and last the done marker
``OUT/.done/<video>.json``: a video counts as done only when its marker exists, and a re-run redoes
(after clearing) any video without one.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import cv2
import numpy as np

from dfer.errors import InputError
from dfer.faces.align import alignment_matrix, warp
from dfer.faces.track import FaceTracker, TrackerOptions, face_stream
from dfer.io.atomic import write_json, write_table
from dfer.io.video import MAX_PIXELS, TruncatedVideo, VideoError, incomplete, probe
from dfer.preprocess import rules
from dfer.preprocess.layouts import LAYOUTS, Placement
from dfer.preprocess.table import NO_FACE, frame_rows, landmarks_of, make_frame_table

STAGING, DONE, TABLES = ".staging", ".done", "tables"


@dataclass(frozen=True)
class PreprocessOptions:
    """Everything that decides a video's outputs (recorded in each video's done marker)."""

    layout: str = "frames"
    face_sizes: tuple[int, ...] = (224, 112)
    scene_sizes: tuple[tuple[int, int], ...] = ((336, 504), (112, 168))
    zoom: float = 0.8  # see dfer.faces.align
    detector: str = "hog"
    detector_options: dict = field(default_factory=dict)
    tracker: TrackerOptions = TrackerOptions()
    drop_faceless_frames: bool = False  # DFEW: frames without the face get no scene frame either
    min_face_fraction: float = 0.0  # DFEW: 0.5 — write nothing for a clip whose face shows in fewer frames
    fill_failed: bool = False  # SDFE-LV: fill a lost frame's landmarks from its neighbours
    max_pixels: int = MAX_PIXELS
    jpeg_quality: int = 95

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown layout {self.layout!r}; expected one of {LAYOUTS}")
        if not self.face_sizes:
            raise InputError("face_sizes needs at least one size")
        if min(self.face_sizes) < 8 or any(min(size) < 8 for size in self.scene_sizes):
            raise InputError(f"face and scene sizes must be at least 8 pixels, got face sizes {list(self.face_sizes)} "
                             f"and scene sizes {[list(size) for size in self.scene_sizes]}")
        if not 0.0 <= self.min_face_fraction <= 1.0:
            raise InputError(f"min_face_fraction must be in [0, 1], got {self.min_face_fraction}")


#: Rule presets named after the papers that used them.
RULES = {
    "none": {},
    "dfew": {"drop_faceless_frames": True, "min_face_fraction": 0.5},
    "sdfe-lv": {"fill_failed": True},
}


@dataclass(frozen=True)
class VideoJob:
    """One input video: its key (unique, used in every output name) and optional labels."""

    key: str
    path: str
    scene: str = ""
    expression: str = ""


def is_done(out: Path, key: str) -> bool:
    """Whether a video's outputs are complete (its done marker exists)."""
    return (Path(out) / DONE / f"{key}.json").is_file()


class FrameWriter:
    """Writes each frame's scene images and face crops into a work folder, in background threads.

    Names follow the ``frames`` layout (``scenes_HxW/<frame>.jpg``, ``faces_S/track_T/<frame>.jpg``);
    :func:`place_outputs` later moves them into the chosen layout. Warping, resizing and JPEG
    encoding release the GIL, so they overlap decoding and tracking. At most ``4 × threads`` frames
    wait, so memory stays flat.
    """

    def __init__(self, work: Path, options: PreprocessOptions, threads: int = 2):
        self.work, self.options, self.threads = work, options, threads
        self.scene_sizes = sorted(options.scene_sizes, key=lambda size: -size[0] * size[1])
        self.face_sizes = sorted(options.face_sizes, reverse=True)
        for height, width in self.scene_sizes:
            (work / f"scenes_{height}x{width}").mkdir(parents=True, exist_ok=True)
        self._folders: set[Path] = set()
        self._pool = ThreadPoolExecutor(threads)
        self._in_flight: deque = deque()

    def write(self, frame, rows: list[dict]) -> None:
        """Queue the frame's scene images and the crops of its usable rows."""
        name = f"{frame.index:06d}.jpg"
        scenes = [(self.work / f"scenes_{h}x{w}" / name, (h, w)) for h, w in self.scene_sizes]
        faces = []
        for row in rows:
            if row["track"] == NO_FACE or not (row["success"] or row["filled"]):
                continue
            outputs = []
            for size in self.face_sizes:
                folder = self.work / f"faces_{size}" / f"track_{row['track']}"
                if folder not in self._folders:
                    folder.mkdir(parents=True, exist_ok=True)
                    self._folders.add(folder)
                outputs.append((folder / name, size))
            faces.append((outputs, alignment_matrix(landmarks_of(row), self.face_sizes[0], self.options.zoom)))
        self._in_flight.append(self._pool.submit(_write_frame, frame.image, scenes, faces, self.options.jpeg_quality))
        while len(self._in_flight) > 4 * self.threads:
            self._in_flight.popleft().result()

    def close(self) -> None:
        """Wait for every queued write (re-raising the first failure)."""
        try:
            while self._in_flight:
                self._in_flight.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


def shrink_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``size`` = (height, width) with area averaging against aliasing where it
    shrinks more than 2×: in one step by a whole ratio, else halved (OpenCV's fast 2 × 2 path) while
    still at least twice the size; the rest of the way (under 2×) is bilinear."""
    height, width = size
    while True:
        ratio = image.shape[0] // height
        if ratio >= 2 and image.shape[:2] == (ratio * height, ratio * width):
            return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        if image.shape[0] < 2 * height or image.shape[1] < 2 * width:
            break
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def _write_frame(image: np.ndarray, scenes, faces, quality: int) -> None:
    """Save one frame's scene images (largest first, each smaller one resized from the previous) and
    its face crops (the largest size warped, smaller sizes resized from it: the template scales
    with the crop, so the geometry is the same). Only the small images are turned to OpenCV's BGR
    order. OpenCV: several times faster than Pillow here."""
    parameters = [cv2.IMWRITE_JPEG_QUALITY, quality]
    picture = image
    for path, size in scenes:
        picture = shrink_to(picture, size)
        _imwrite(path, cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), parameters)
    for paths_and_sizes, matrix in faces:
        crop = None
        for path, size in paths_and_sizes:
            crop = warp(image, matrix, (size, size)) if crop is None else cv2.resize(
                crop, (size, size), interpolation=cv2.INTER_AREA)
            _imwrite(path, cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), parameters)


def _imwrite(path: Path, image: np.ndarray, parameters) -> None:
    if not cv2.imwrite(str(path), image, parameters):
        raise OSError(f"{path}: could not write the image")


def track_video(path: str | Path, key: str, options: PreprocessOptions, writer: FrameWriter | None = None,
                on_frame: Callable[[int, int], None] | None = None):
    """Decode a video once: track faces, complete gaps (and fill, SDFE-LV), and hand every frame
    with its final rows to ``writer``; ``on_frame(done, total)`` reports progress (total: the
    container's frame count, 0 if unknown). Returns the per-frame table, the header and the number
    of detections run."""
    info = probe(path, options.max_pixels)
    tracker = FaceTracker.shared(options.tracker, options.detector, options.detector_options)
    tracked = ((frame, frame_rows(key, frame.index, frame.time, faces, tracker.last_cut))
               for frame, faces in face_stream(path, tracker, info))
    rows: list[dict] = []
    for frame, final in rules.complete_gaps(tracked, options.tracker.max_gap, options.fill_failed):
        rows.extend(final)
        if writer is not None:
            writer.write(frame, final)
        if on_frame is not None:
            on_frame(frame.index + 1, info.frames)
    decoded = rows[-1]["frame"] + 1 if rows else 0
    if decoded == 0:
        raise VideoError(path, "no frames could be decoded")
    missing = incomplete(info, decoded, rows[-1]["time"])
    if missing:
        raise TruncatedVideo(path, missing)
    return make_frame_table(rows), info, tracker.detections_run


def _owned(folder: PurePosixPath, key: str) -> PurePosixPath:
    """The top folder a video owns: the path up to the component named after the video."""
    parts = folder.parts
    return PurePosixPath(*parts[:parts.index(key) + 1])


def place_outputs(work: Path, table, options: PreprocessOptions, placement: Placement, staging: Path
                  ) -> set[PurePosixPath]:
    """Move the written frames from ``work`` into the layout under ``staging`` after the whole-video
    rules: release layouts keep the main face only and number frames 1, 2, …; ``drop_faceless_frames``
    keeps only frames with a face crop. Returns the folders the video owns (relative paths)."""
    crops = table[rules.usable(table)]
    if placement.main_face_only:
        crops = crops[crops.track == rules.main_track(table)]
    frames = sorted(crops.frame.unique()) if options.drop_faceless_frames else sorted(table.frame.unique())
    numbers = {frame: number for number, frame in enumerate(frames, start=1)}
    moves = []
    for i, size in enumerate(options.face_sizes):
        for track, rows in crops.groupby("track"):
            folder = placement.face_folder(size, i == 0, int(track))
            moves += [(work / f"faces_{size}" / f"track_{track}" / f"{frame:06d}.jpg", folder, frame)
                      for frame in rows.frame]
    for i, (height, width) in enumerate(options.scene_sizes):
        folder = placement.scene_folder((height, width), i == 0)
        if folder is not None:
            moves += [(work / f"scenes_{height}x{width}" / f"{frame:06d}.jpg", folder, frame) for frame in frames]
    owned = set()
    for folder in {folder for _, folder, _ in moves}:
        (staging / folder).mkdir(parents=True, exist_ok=True)
        owned.add(_owned(folder, placement.video))
    for source, folder, frame in moves:
        os.replace(source, staging / folder / placement.file_name(frame, numbers[frame]))
    return owned


def process_video(job: VideoJob, out: str | Path, options: PreprocessOptions,
                  on_frame: Callable[[int, int], None] | None = None) -> dict:
    """Preprocess one video into ``out``; returns its summary (also written as its done marker).
    ``on_frame(done, total)`` is called after each frame (see :func:`track_video`).

    Raises :class:`VideoError` for a file that is not a usable video; nothing of it is left behind.
    """
    out = Path(out)
    started = time.perf_counter()
    staging = out / STAGING / job.key
    shutil.rmtree(staging, ignore_errors=True)
    try:
        writer = FrameWriter(staging / ".work", options)
        try:
            table, info, detections = track_video(job.path, job.key, options, writer, on_frame)
        finally:
            writer.close()
        main = rules.main_track(table)
        fraction = rules.face_fraction(table, None if main == NO_FACE else main)
        kept = fraction >= options.min_face_fraction and not (main == NO_FACE and options.min_face_fraction > 0)
        placement = Placement(options.layout, job.key, job.scene, job.expression)
        owned = place_outputs(staging / ".work", table, options, placement, staging) if kept else set()
        for folder in sorted(owned):  # replace whatever an interrupted earlier run left
            target = out / folder
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / folder, target)
        write_table(out / TABLES / f"{job.key}.parquet", table)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    seconds = time.perf_counter() - started
    frames = int(table.frame.nunique())
    summary = {
        **asdict(job), "status": "done", "frames": frames, "width": info.width, "height": info.height,
        "fps": info.fps, "duration": info.duration, "rotation": info.rotation,
        "face_frames": int(table[rules.usable(table)].frame.nunique()), "main_track": main,
        "main_face_fraction": round(fraction, 4), "kept": bool(kept),
        "dropped_because": "" if kept else f"face in {fraction:.0%} of frames < min_face_fraction "
                                           f"{options.min_face_fraction:.0%}",
        **rules.frame_counts(table), "detections_run": detections,
        "outputs": ";".join(sorted(str(folder) for folder in owned)), "seconds": round(seconds, 3),
        "frames_per_second": round(frames / seconds, 2) if seconds else None,
    }
    write_json(out / DONE / f"{job.key}.json", summary)
    return summary
