"""Reader for AFEW 7.0 as released for EmotiW (Dhall et al., "Collecting large, richly annotated
facial-expression databases from movies", IEEE MultiMedia 2012; EmotiW 2017–2019).

Layout under ``root``::

    Train/<Emotion>/<clip>.avi      e.g. Train/Angry/000046280.avi
    Val/<Emotion>/<clip>.avi

with the emotion folders Angry, Disgust, Fear, Happy, Neutral, Sad and Surprise, mapped through
:func:`dfer.labels.from_afew`. ``Train`` becomes split ``train`` and ``Val`` split ``test``: the
labels of AFEW's test set were never released, so the field reports on Val. A ``Test`` folder, if
present, is not read. Only the videos are read (whole frames, not face crops); run ``dfer
preprocess`` on them for face crops. Frame counts come from the videos on disk.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dfer import labels
from dfer.data.folders import read_emotion_folders
from dfer.data.records import ProblemLog, make_table

SPLIT_DIRS = {"train": "Train", "test": "Val"}


def is_afew_root(root: Path) -> bool:
    """Whether ``root`` holds ``Train/`` or ``Val/`` with at least one AFEW emotion folder."""
    return any((Path(root) / split / name).is_dir() for split in SPLIT_DIRS.values() for name in labels.AFEW_LABELS)


def read_afew(root: Path, errors: str = "raise") -> pd.DataFrame:
    """Clip table of AFEW's labelled clips: ``Train`` → train, ``Val`` → test.

    Clip ids are ``<Train|Val>/<Emotion>/<file stem>``; ``video`` holds each clip.
    """
    log = ProblemLog(errors)
    return log.attach(make_table(read_emotion_folders(root, "afew", SPLIT_DIRS, labels.from_afew, log)))
