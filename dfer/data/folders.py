"""Releases that label clips by folder: ``<split folder>/<emotion folder>/<clip>.<video>`` (AFEW, CAER).

The folder names are the labels, so an emotion folder the label table does not know is a
problem of the copy, reported with its path; frame counts come from the videos on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from dfer.data.records import VIDEO_SUFFIXES, ProblemLog, natural_key
from dfer.errors import DatasetError
from dfer.io.frames import count_video_frames


def read_emotion_folders(
    root: Path, dataset: str, split_dirs: Mapping[str, str], label_of: Callable[[str], int], log: ProblemLog
) -> list[dict]:
    """One row per video under ``root / split_dirs[split] / <emotion folder>``.

    ``label_of`` maps an emotion folder name to a canonical index (raising ``ValueError`` for a
    name it does not know). Clip ids are ``<split folder>/<emotion folder>/<file stem>``. Files
    that are not videos are skipped; a video outside an emotion folder, an unknown emotion folder
    and an unreadable video are reported to ``log``.
    """
    rows = []
    for split, split_dir in split_dirs.items():
        folder = Path(root) / split_dir
        if not folder.is_dir():
            log.add(folder, f"{split} split folder not found")
            continue
        for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
            if not entry.is_dir():
                if entry.suffix.lower() in VIDEO_SUFFIXES:
                    log.add(entry, "video outside an emotion folder")
                continue
            try:
                label = label_of(entry.name)
            except ValueError as error:
                log.add(entry, str(error))
                continue
            for video in sorted(entry.iterdir(), key=lambda p: natural_key(p.name)):
                if not video.is_file() or video.suffix.lower() not in VIDEO_SUFFIXES:
                    continue
                try:
                    num_frames = count_video_frames(video)
                except DatasetError as error:
                    log.add(video, str(error).removeprefix(f"{video}: "))
                    continue
                if num_frames == 0:
                    log.add(video, "the video has no frames")
                    continue
                rows.append({"clip_id": f"{split_dir}/{entry.name}/{video.stem}", "dataset": dataset,
                             "label": label, "split": split, "video": str(video), "num_frames": num_frames})
    return rows
