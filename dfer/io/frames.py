"""Image and video decoding shared by the readers, the dataset and the packed store."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from dfer.errors import DatasetError

#: An image size: an int (square) or ``(height, width)``.
Size = int | tuple[int, int]


def as_hw(size: Size) -> tuple[int, int]:
    """``(height, width)`` of a size given as an int (square) or a pair."""
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def read_image(path: str | Path) -> np.ndarray:
    """RGB uint8 ``(H, W, 3)`` array of an image file (raises OSError if it cannot be read)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def read_video(path: str | Path, indices: Iterable[int] | None = None) -> dict[int, np.ndarray]:
    """``{index: RGB (H, W, 3)}`` for the wanted frame ``indices`` (all frames when None).

    Decodes sequentially once, stopping after the last wanted frame; never seeks. Indices past
    the end of the video are simply absent from the result.
    """
    import av  # imported here: only video sources need it

    wanted = None if indices is None else set(int(i) for i in indices)
    last = None if wanted is None else max(wanted, default=-1)
    frames: dict[int, np.ndarray] = {}
    if last == -1:
        return frames
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                if wanted is None or index in wanted:
                    frames[index] = frame.to_ndarray(format="rgb24")
                if index == last:
                    break
    except (av.error.FFmpegError, IndexError) as error:
        raise DatasetError(path, f"cannot decode as a video ({error})") from None
    return frames


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` resized to ``(height, width)``, bilinear with antialiasing (Pillow)."""
    height, width = size
    if frame.shape[:2] == (height, width):
        return frame
    resized = Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized)


def count_decoded_frames(path: str | Path) -> int:
    """Number of frames a video decodes to (every frame decoded, whatever the container declares)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return sum(1 for _ in container.decode(stream))
    except (av.error.FFmpegError, IndexError) as error:
        raise DatasetError(path, f"cannot decode as a video ({error})") from None


def count_video_frames(path: Path) -> int:
    """Number of frames in a video: the container's count if it has one, else decoded."""
    import av  # imported here: only video-based records need it

    try:
        with av.open(str(path)) as container:
            declared = int(container.streams.video[0].frames)
    except (av.error.FFmpegError, IndexError) as error:
        raise DatasetError(path, f"cannot read as a video ({error})") from None
    return declared or count_decoded_frames(path)
