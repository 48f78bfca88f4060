"""``dfer data tim``: write TIM-normalised frame folders, like DFEW's ``clip_224x224_16f``."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from dfer.data.records import list_frames
from dfer.data.tim import tim_frames_uint8
from dfer.errors import DatasetError, InputError


@dataclass
class TimSummary:
    written: int
    skipped: int
    failed: list[str]
    out: str


def tim_folder(source: Path, target: Path, frames: int) -> None:
    """TIM-normalise one clip folder into ``target/1.jpg … {frames}.jpg`` (atomic: temp then rename)."""
    paths = list_frames(source)
    if not paths:
        raise DatasetError(source, "no frame images")
    images = []
    for path in paths:
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except OSError as error:
            raise DatasetError(path, f"unreadable image ({error})") from None
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise DatasetError(source, f"frames differ in size {sorted(shapes)}; TIM needs one size per clip")
    normalised = tim_frames_uint8(np.stack(images), frames)
    staging = target.parent / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for index, frame in enumerate(normalised, start=1):
        Image.fromarray(frame).save(staging / f"{index}.jpg", quality=95)
    if target.exists():  # an incomplete folder from an older run
        shutil.rmtree(target)
    os.replace(staging, target)


def _is_complete(target: Path, frames: int) -> bool:
    return target.is_dir() and all((target / f"{i}.jpg").is_file() for i in range(1, frames + 1))


def _run(job: tuple[Path, Path, int]) -> str | None:
    source, target, frames = job
    try:
        tim_folder(source, target, frames)
    except (DatasetError, ValueError) as error:
        return str(error)
    return None


def tim_folders(src: Path, dst: Path, frames: int = 16, workers: int = 1, progress: bool = True) -> TimSummary:
    """TIM-normalise every clip folder in ``src`` into ``dst/<clip>/``.

    Finished clips are skipped, so an interrupted run resumes where it stopped.
    """
    src, dst = Path(src), Path(dst)
    if frames < 1:
        raise InputError(f"--frames must be at least 1, got {frames}")
    if not src.is_dir():
        raise DatasetError(src, "source folder not found")
    clips = sorted(p for p in src.iterdir() if p.is_dir())
    if not clips:
        raise DatasetError(src, "expected one sub-folder of frame images per clip; found none")
    dst.mkdir(parents=True, exist_ok=True)
    jobs = [(clip, dst / clip.name, frames) for clip in clips if not _is_complete(dst / clip.name, frames)]
    failed = []
    with ProcessPoolExecutor(workers) if workers > 1 else _Inline() as pool:
        results = pool.map(_run, jobs)
        for error in tqdm(results, total=len(jobs), desc="TIM", unit="clip", disable=None if progress else True):
            if error:
                failed.append(error)
    return TimSummary(len(jobs) - len(failed), len(clips) - len(jobs), failed, str(dst))


class _Inline:
    """A stand-in for an executor that runs jobs in this process (workers=1)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def map(function, items):
        return map(function, items)
