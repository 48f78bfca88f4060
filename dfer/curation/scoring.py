"""Stage 4 of ``dfer build candidates``: every surviving clip scored by a FER model.

The default model (or its ``.hdf5`` weights) scores the clip's frames as ``dfer predict`` sees them
(a grey crop around each face box of the raw video, levelled by the tracked landmarks); a dfer
checkpoint scores the clip's aligned face crops (and scene frames, for two-stream models) as ``dfer
preprocess`` wrote them. A clip's scores are the mean probabilities over its person's frames; each
video's scores are cached (``scores/<video>.parquet``), so a re-run does not score again.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from dfer import labels
from dfer.engine.inference import VideoModel
from dfer.errors import DatasetError, InputError
from dfer.faces.align import roll
from dfer.io.atomic import write_table
from dfer.io.video import iter_frames, read_ahead
from dfer.models.default import DefaultClassifier
from dfer.preprocess.table import NO_FACE, landmarks_of


def person_rows(table: pd.DataFrame, clip) -> pd.DataFrame:
    """The clip's frames where its person's face was found (what the crops and scores use)."""
    rows = table[(table.frame >= clip.start_frame) & (table.frame <= clip.end_frame) & (table.track == clip.person)]
    return rows[rows.success & (rows.track != NO_FACE)].sort_values("frame")


def score_with_classifier(video: str, table: pd.DataFrame, clips: pd.DataFrame, classifier, batch: int = 64
                          ) -> pd.DataFrame:
    """Per clip: mean probabilities of a per-face classifier (``crop(grey, box, roll)``, ``__call__``) over
    its person's frames, decoding the video once (the crops ``dfer predict`` makes)."""
    wanted = {}
    for clip in clips.itertuples():
        for row in person_rows(table, clip).to_dict("records"):
            wanted[row["frame"]] = (clip.clip_id, (row["left"], row["top"], row["right"], row["bottom"]),
                                    roll(landmarks_of(row)))
    sums = {clip_id: np.zeros(labels.NUM_CLASSES) for clip_id in clips.clip_id}
    counts = dict.fromkeys(clips.clip_id, 0)
    crops, owners = [], []

    def flush():
        if crops:
            for owner, probabilities in zip(owners, classifier(np.stack(crops))):
                sums[owner] += probabilities
                counts[owner] += 1
            crops.clear()
            owners.clear()

    last = max(wanted, default=-1)
    for frame in read_ahead(iter_frames(video)):
        if frame.index in wanted:
            owner, box, head_roll = wanted[frame.index]
            crops.append(classifier.crop(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), box, head_roll))
            owners.append(owner)
            if len(crops) >= batch:
                flush()
        if frame.index >= last:
            break
    flush()
    return _score_table(sums, counts)


def score_with_video_model(faces_root: Path, scenes_root: Path | None, table: pd.DataFrame, clips: pd.DataFrame, model
                           ) -> pd.DataFrame:
    """Per clip: a trained dfer video model (:class:`dfer.engine.inference.VideoModel`) on the
    clip's aligned face crops (and scene frames for two-stream models), as ``dfer preprocess`` wrote them."""
    if model.scene_size and scenes_root is None:
        raise InputError(f"{model.name} is a two-stream model: the preprocess options must write scene frames")
    sums, counts = {}, {}
    for clip in clips.itertuples():
        rows = person_rows(table, clip)
        sums[clip.clip_id], counts[clip.clip_id] = np.zeros(labels.NUM_CLASSES), 0
        if rows.empty:
            continue
        faces = [_read_rgb(faces_root / f"track_{clip.person}" / f"{frame:06d}.jpg", model.size) for frame in rows.frame]
        scenes = ([_read_rgb(scenes_root / f"{frame:06d}.jpg", model.scene_size) for frame in rows.frame]
                  if model.scene_size else None)
        video_input, scene_input, _ = model.window_input(faces, scenes)
        sums[clip.clip_id] = model(video_input, scene_input)["probabilities"].astype(np.float64)
        counts[clip.clip_id] = len(rows)
    return _score_table({k: v * max(counts[k], 1) for k, v in sums.items()}, counts)


def _score_table(sums: dict, counts: dict) -> pd.DataFrame:
    rows = [{"clip_id": clip_id, **dict(zip(labels.EXPRESSIONS, sums[clip_id] / max(counts[clip_id], 1))),
             "scored_frames": counts[clip_id]} for clip_id in sums]
    return pd.DataFrame(rows, columns=["clip_id", *labels.EXPRESSIONS, "scored_frames"])


def _read_rgb(path: Path, size) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(path, "missing or unreadable image (was the preprocess output changed?)")
    if size is not None:
        height, width = (size, size) if np.isscalar(size) else size
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load_scorer(name: str):
    """``default`` (the fetched default model), a Keras ``.hdf5`` of its weights, or a dfer checkpoint."""
    if name == "default" or name.endswith((".hdf5", ".h5")):
        return DefaultClassifier(None if name == "default" else name)
    return VideoModel.from_checkpoint(name)


def score_clips(out: Path, videos: pd.DataFrame, tables, survivors: pd.DataFrame, model_name: str,
                folders: tuple[Path, Path | None], progress: bool) -> pd.DataFrame:
    """Stage 4 scores of the surviving clips, one cached table per video."""
    parts, model = [], None
    paths = videos.set_index("video").path
    groups = list(survivors.groupby("video"))
    for video, clips in tqdm(groups, desc="score clips", unit="video", disable=None if progress else True):
        cache = out / "scores" / f"{video}.parquet"
        if cache.is_file():
            cached = pd.read_parquet(cache)
            if set(cached.clip_id) == set(clips.clip_id):
                parts.append(cached)
                continue
        model = model or load_scorer(model_name)
        if hasattr(model, "crop"):
            scores = score_with_classifier(paths[video], tables[video], clips, model)
        else:
            faces, scenes = folders
            scores = score_with_video_model(faces / video, scenes / video if scenes else None, tables[video], clips,
                                            model)
        write_table(cache, scores)
        parts.append(scores)
    return pd.concat(parts, ignore_index=True) if parts else _score_table({}, {})
