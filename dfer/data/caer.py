"""Reader for CAER as released (Lee et al., "Context-Aware Emotion Recognition Networks", ICCV 2019).

Layout under ``root``::

    train/<Emotion>/<clip>.avi          e.g. train/Anger/0001.avi
    validation/<Emotion>/<clip>.avi
    test/<Emotion>/<clip>.avi

with the emotion folders Anger, Disgust, Fear, Happy, Neutral, Sad and Surprise, mapped through
:func:`dfer.labels.from_caer`; the folders give the splits train, val and test. Clip ids are
``<split folder>/<Emotion>/<file stem>`` (stems such as ``0001`` repeat across folders).

CAER is about context: its clips are whole TV-show frames, and the release has no face crops. So
each clip's ``video`` is both its face source and its scene source — models read the whole frames
as they are. For face crops and scene frames as separate streams (two-stream models,
``with_scene``), run ``dfer preprocess`` on the videos and read its output. Frame counts come from
the videos on disk.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.folders import read_emotion_folders
from dfer.data.records import ProblemLog, make_table

SPLIT_DIRS = {"train": "train", "val": "validation", "test": "test"}


def is_caer_root(root: Path) -> bool:
    """Whether ``root`` holds a split folder with at least one CAER emotion folder."""
    return any((Path(root) / split / name).is_dir() for split in SPLIT_DIRS.values() for name in labels.CAER_LABELS)


def read_caer(root: Path, errors: str = "raise") -> pd.DataFrame:
    """Clip table of CAER's clips with their train/val/test splits; ``video`` holds each clip."""
    log = ProblemLog(errors)
    return log.attach(make_table(read_emotion_folders(root, "caer", SPLIT_DIRS, labels.from_caer, log)))
