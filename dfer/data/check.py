"""``dfer data check``: list every problem of a dataset copy, each with its path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm import tqdm

from dfer.data import mafw
from dfer.data.dfew import FOLDS, read_dfew
from dfer.data.ferv39k import SCENES_DIR, read_ferv39k
from dfer.data.formats import detect_format, read_dataset
from dfer.data.records import has_paths, has_value
from dfer.errors import InputError, Problem
from dfer.io.frames import count_decoded_frames
from dfer.io.video import short_of

IMAGE_CHECKS = ("all", "ends", "none")


@dataclass
class CheckReport:
    """What ``check_dataset`` found: the format, clip counts and every problem."""

    root: str
    format: str
    clips: int
    images_checked: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_dataset(
    root: Path, format: str | None = None, images: str = "all", workers: int = 4, progress: bool = True
) -> CheckReport:
    """Validate a dataset copy: split files, labels, folders on disk, and decodable images.

    ``images`` chooses how many frame images are decoded: ``all``, ``ends`` (first and last of
    each clip) or ``none``.
    """
    if images not in IMAGE_CHECKS:
        raise InputError(f"images must be one of {', '.join(IMAGE_CHECKS)}, got {images!r}")
    root = Path(root)
    format = format or detect_format(root)
    problems: dict[str, Problem] = {}

    def collect(table: pd.DataFrame) -> pd.DataFrame:
        for problem in table.attrs.get("problems", []):
            problems.setdefault(str(problem), problem)
        return table

    decoded = []  # tables whose images and videos are decoded, besides the main one
    if format == "dfew":
        table = collect(read_dfew(root, errors="collect"))
        for fold in FOLDS:  # train/test overlap and label agreement are per fold
            collect(read_dfew(root, fold=fold, errors="collect"))
    elif format == "ferv39k":
        table = collect(read_ferv39k(root, with_scene=(root / SCENES_DIR).is_dir(), errors="collect"))
    elif format == "mafw":
        table = collect(mafw.read_mafw(root, errors="collect"))
        for fold in mafw.FOLDS:
            collect(mafw.read_mafw(root, fold=fold, errors="collect"))
        if (root / mafw.FRAMES_DIR).is_dir():  # the frame folders too, when the copy has them
            decoded.append(collect(mafw.read_mafw(root, source="frames", errors="collect")))
    else:
        table = collect(read_dataset(root, format=format, errors="collect"))

    if table.empty:
        problems.setdefault("empty", Problem(str(root), "no clips: the dataset lists none"))
    paths, videos = [], []
    for checked in (table, *decoded) if images != "none" else ():
        for column in ("frames", "scene_frames"):
            for frames in checked[column].dropna():
                paths.extend(frames if images == "all" else {frames[0], frames[-1]})
        videos += [(row.video, int(row.num_frames)) for row in checked.itertuples()
                   if not has_paths(row.frames) and has_value(row.video)]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        results = [*pool.map(_image_problem, paths, chunksize=64), *pool.map(_video_problem, videos)]
        for problem in tqdm(results, total=len(paths) + len(videos), desc="decoding frames", unit="img",
                            disable=None if progress and (paths or videos) else True):
            if problem is not None:
                problems.setdefault(str(problem), problem)
    return CheckReport(str(root), format, len(table), len(paths) + len(videos), list(problems.values()))


def _image_problem(path: str) -> Problem | None:
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        return Problem(path, f"unreadable image ({error})")
    return None


def _video_problem(video: tuple[str, int]) -> Problem | None:
    """A clip video that cannot be decoded, or decodes to fewer frames than it declares."""
    path, declared = video
    try:
        decoded = count_decoded_frames(path)
    except InputError as error:
        return Problem(path, str(error).removeprefix(f"{path}: "))
    missing = short_of(declared, decoded)
    return Problem(path, missing) if missing else None
