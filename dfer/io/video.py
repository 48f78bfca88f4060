"""Streaming video decoding with PyAV: one sequential decoder, frames with their timestamps.

Frames come out upright (the container's rotation applied), as RGB uint8 ``(H, W, 3)`` arrays,
one at a time, so memory stays flat with video length. Variable frame rate is handled by keeping
each frame's own presentation time rather than deriving it from a nominal rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from dfer.errors import InputError

#: Frames larger than this (pixels) are refused: 4096 × 4096 covers 4K/DCI video with room.
MAX_PIXELS = 4096 * 4096


class VideoError(InputError):
    """A file cannot be used as a video; the message names the file and what was wrong."""

    def __init__(self, path, message: str):
        super().__init__(f"{path}: {message}")
        self.path = Path(path)
        self.reason = message


class TruncatedVideo(VideoError):
    """Fewer frames decoded than the container declares."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream (upright size)."""

    path: str
    width: int
    height: int
    fps: float
    frames: int  # the container's count; 0 when it has none
    duration: float  # seconds; 0.0 when unknown
    rotation: int  # degrees counter-clockwise applied to make frames upright
    codec: str


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in decoding order, presentation time (s) and RGB pixels."""

    index: int
    time: float
    image: np.ndarray


def _open(path: Path):
    import av

    if not path.is_file():
        raise VideoError(path, "no such file")
    if path.stat().st_size == 0:
        raise VideoError(path, "empty file (0 bytes), expected a video")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise VideoError(path, f"not a readable video container ({error.strerror or error})") from None
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        container.close()
        raise VideoError(path, f"no video stream (streams: {kinds})")
    return container


def _upright_rotation(frame_rotation: float) -> int:
    """Counter-clockwise quarter turns (in degrees) that make a frame with this display matrix upright."""
    return int(round(frame_rotation / 90.0)) % 4 * 90


def probe(path: str | Path, max_pixels: int = MAX_PIXELS) -> VideoInfo:
    """Read a video's header (decoding only its first frame, for the rotation) and check its size."""
    path = Path(path)
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        rotation = 0
        try:
            first = next(container.decode(stream), None)
        except Exception as error:  # noqa: BLE001 - any decoder failure means an unusable file
            raise VideoError(path, f"cannot decode the first frame ({error})") from None
        if first is None:
            raise VideoError(path, "the video stream has no frames")
        width, height = first.width, first.height
        rotation = _upright_rotation(first.rotation)
        if rotation in (90, 270):
            width, height = height, width
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        duration = float(stream.duration * stream.time_base) if stream.duration else (
            float(container.duration) / 1e6 if container.duration else 0.0)
        info = VideoInfo(str(path), width, height, fps, int(stream.frames or 0), duration, rotation,
                         stream.codec_context.name)
    if width * height > max_pixels:
        raise VideoError(path, f"frame size {width}×{height} is larger than the limit of {max_pixels} pixels "
                               "(raise max_pixels to process it)")
    return info


def iter_frames(path: str | Path, info: VideoInfo | None = None) -> Iterator[Frame]:
    """Decode a video once, front to back, yielding upright RGB frames with their times.

    A frame without a timestamp gets the previous one plus one nominal frame period. Decoding
    errors after some frames raise :class:`VideoError` saying how many frames were decoded.
    """
    import av

    path = Path(path)
    info = info or probe(path)
    period = 1.0 / info.fps if info.fps > 0 else 0.0
    container = _open(path)
    index, time = 0, -period
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else time + period
                image = frame.to_ndarray(format="rgb24")
                if info.rotation:
                    image = np.rot90(image, info.rotation // 90)
                # PyAV pads rows to an aligned line size (e.g. at 504 px wide); dlib needs packed rows
                image = np.ascontiguousarray(image)
                yield Frame(index, time, image)
                index += 1
        except av.error.FFmpegError as error:
            raise VideoError(path, f"decoding failed after {index} frames ({error})") from None


def read_ahead(items: Iterator, size: int = 8) -> Iterator:
    """Iterate ``items`` from a background thread that stays up to ``size`` items ahead.

    Decoding releases the GIL, so on a machine with two cores or more the next frames decode
    while this thread works on the current one. Exceptions are re-raised here, in order.
    """
    import queue
    import threading

    buffer: queue.Queue = queue.Queue(maxsize=size)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put((done, None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            buffer.put((done, error))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float, crf: int = 23) -> int:
    """Encode RGB uint8 frames (all of one size) as H.264 (MPEG-4 part 2 where PyAV lacks libx264),
    yuv420p, at ``fps``, in an AVI container for a ``.avi`` path and an mp4 otherwise; atomic (temp
    file, then rename). Returns the frames written."""
    import av
    from fractions import Fraction

    from dfer.io.atomic import atomic_path

    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    container_format = "avi" if Path(path).suffix.lower() == ".avi" else "mp4"
    written = 0
    with atomic_path(path) as temporary:
        with av.open(str(temporary), mode="w", format=container_format) as container:
            stream = None
            for image in frames:
                if stream is None:
                    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                    # yuv420p needs even sides: an odd last row/column is dropped
                    stream.width, stream.height = image.shape[1] // 2 * 2, image.shape[0] // 2 * 2
                    stream.pix_fmt = "yuv420p"
                    if codec == "libx264":
                        stream.options = {"preset": "ultrafast", "crf": str(crf), "threads": "1"}
                image = np.ascontiguousarray(image[:stream.height, :stream.width])
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
                written += 1
            if stream is None:
                raise InputError(f"{path}: no frames to write")
            container.mux(stream.encode())
    return written


def incomplete(info: VideoInfo, decoded: int, last_time: float) -> str:
    """Why a video whose decoding gave ``decoded`` frames, the last at ``last_time`` s, is clearly
    shorter than its container declares ("" when it is not): a file cut short still opens, and
    decoding it simply stops early."""
    missing = short_of(info.frames, decoded)
    if missing:
        return missing
    period = 1.0 / info.fps if info.fps > 0 else 0.0
    if decoded and info.duration and last_time + 2 * period < 0.9 * info.duration:
        return f"truncated: decoded frames end at {last_time:.2f} s of the {info.duration:.2f} s the container declares"
    return ""


def short_of(declared: int, decoded: int) -> str:
    """"truncated: …" when ``decoded`` is clearly fewer than the ``declared`` frames (more than 5%
    and one frame short), else ""."""
    if declared and decoded < 0.95 * declared - 1:
        return f"truncated: decoded {decoded} of the {declared} frames the container declares"
    return ""
