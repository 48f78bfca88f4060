"""``ClipDataset``: sampled, transformed ``(C, T, H, W)`` clips from a clip table.

Each row is read from the first source it has: a packed store (rows of
:func:`dfer.data.packed.open_store`), its ``frames`` image paths (only the sampled frames are
decoded), or its ``video`` (decoded sequentially once, up to the last sampled frame).

A sample is a dict::

    video              float (C, T, H, W), the transformed face frames
    label              canonical expression index (-1 unknown)
    clip_id            str
    index              position in the table
    view               which of the ``views`` test clips of the row this is (0 … views − 1)
    target             float (K,) share of the clip's ``votes`` per class (``soft_targets`` only;
                       the one-hot label for a clip without votes)
    unreadable_frames  distinct sampled frames that could not be read and were replaced (sum it
                       over an epoch to report it)
    scene              float (C, T, H, W) scene frames at the same times (with_scene only)
    clip_shape         int64 tensor [clips, per_clip], only for samplers that return a 2-D
                       (clips, per_clip) index array (CEFLNet); ``video`` then holds the
                       sub-clips back to back along T, so a model recovers them with
                       ``video.view(B, C, clips, per_clip, H, W)``

The default collate function batches these dicts. Randomness (sampler and transforms) comes from
generators seeded by ``(seed, epoch, index)``, so a run is reproducible whatever the number of
DataLoader workers; call :meth:`ClipDataset.set_epoch` before each epoch (with
``persistent_workers=True`` the workers keep the epoch they were started with).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as F

from dfer.data.packed import read_clip_frames
from dfer.data.records import has_paths, has_value
from dfer.data.sampling import MODES, Sampler
from dfer.data.targets import vote_distribution
from dfer.data.transforms import ClipTransform
from dfer.errors import DatasetError, InputError
from dfer.io.frames import count_video_frames, read_image, read_video


class UnreadableFrameWarning(UserWarning):
    """A frame could not be read and was replaced by the nearest readable sampled frame."""


def sample_generators(
    seed: int, epoch: int, index: int
) -> tuple[np.random.Generator, torch.Generator, torch.Generator]:
    """Independent (sampler, face transform, scene transform) generators for one sample."""
    sampler_seq, face_seq, scene_seq = np.random.SeedSequence([seed, epoch, index]).spawn(3)
    face = torch.Generator().manual_seed(int(face_seq.generate_state(1, np.uint64)[0] >> 1))
    scene = torch.Generator().manual_seed(int(scene_seq.generate_state(1, np.uint64)[0] >> 1))
    return np.random.default_rng(sampler_seq), face, scene


def scene_indices(indices: np.ndarray, num_faces: int, num_scenes: int) -> np.ndarray:
    """Scene frame indices at the same times as face ``indices`` (proportional if counts differ)."""
    if num_faces == num_scenes:
        return indices
    return np.minimum(indices * num_scenes // num_faces, num_scenes - 1)


def nearest_readable(frames: dict[int, np.ndarray | None], clip_id: str) -> dict[int, np.ndarray]:
    """``frames`` with each unreadable (None) frame replaced by the nearest readable one."""
    readable = [index for index, frame in frames.items() if frame is not None]
    if not readable:
        raise DatasetError(clip_id, "no sampled frame of the clip could be read")
    readable_array = np.asarray(readable)
    filled = {}
    for index, frame in frames.items():
        if frame is None:
            frame = frames[int(readable_array[np.argmin(np.abs(readable_array - index))])]
        filled[index] = frame
    return filled


def to_clip_tensor(
    frames: np.ndarray, transform: ClipTransform | None, generator: torch.Generator
) -> torch.Tensor:
    """uint8 ``(T, H, W, 3)`` → transformed float ``(C, T, H, W)``."""
    clip = torch.from_numpy(frames).permute(0, 3, 1, 2)
    if transform is not None:
        clip = transform(clip, generator)
    clip = F.to_dtype(clip, torch.float32, scale=True)
    return clip.permute(1, 0, 2, 3).contiguous()


class ClipDataset(Dataset):
    """Clips of ``table`` sampled by ``sampler`` and transformed by ``transform``.

    ``sampler(num_frames, mode, rng)`` returns the frame indices of a clip (shape ``(T,)`` or
    ``(clips, per_clip)``); ``transform(clip, generator)`` maps uint8 ``(T, C, H, W)`` to float
    ``(T, C, H, W)`` (see :mod:`dfer.data.transforms`). With ``with_scene`` each sample also holds
    the scene frames (``scene_frames`` or the store's scenes) at the same times, transformed by
    ``scene_transform``. An unreadable frame is replaced by the nearest readable sampled frame and
    counted (a warning once per file); ``strict`` raises instead.

    ``views`` > 1 (test mode) gives every row ``views`` times, as the sampler's evenly spread test
    clips (multi-clip testing): item i is view i mod views of row i // views, and the sampler is called
    with ``view=(j, views)`` (see :mod:`dfer.data.sampling`). ``soft_targets``
    adds each clip's vote distribution over ``num_classes`` classes (the table's ``votes``).
    """

    def __init__(
        self,
        table: pd.DataFrame,
        sampler: Sampler,
        mode: str = "train",
        transform: ClipTransform | None = None,
        scene_transform: ClipTransform | None = None,
        with_scene: bool = False,
        strict: bool = False,
        seed: int = 0,
        views: int = 1,
        soft_targets: bool = False,
        num_classes: int = 7,
    ):
        if mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {mode!r}")
        if views < 1 or (views > 1 and mode != "test"):
            raise InputError(f"views must be 1 in training and at least 1 at test, got {views} in mode {mode!r}")
        if soft_targets and "votes" not in table.columns:
            raise DatasetError("soft targets", "the clip table has no votes column (DFEW's vote counts come from "
                               "Annotation/annotation.xlsx)")
        self.table = table.reset_index(drop=True)
        self.rows = self.table.to_dict("records")
        self.sampler = sampler
        self.mode = mode
        self.transform = transform
        self.scene_transform = scene_transform
        self.with_scene = with_scene
        self.strict = strict
        self.seed = seed
        self.views = views
        self.soft_targets = soft_targets
        self.num_classes = num_classes
        self.epoch = 0
        self._warned: set[str] = set()
        if with_scene:
            for row in self.rows:
                if not (_scene_length(row) or has_paths(row.get("scene_frames"))):
                    raise DatasetError(row["clip_id"], "with_scene is set but the clip has no scene frames")

    def set_epoch(self, epoch: int) -> None:
        """Draw different (but reproducible) samples and augmentations for ``epoch``."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.rows) * self.views

    def __getitem__(self, item: int) -> dict:
        index, view = divmod(item, self.views)
        row = self.rows[index]
        rng, face_generator, scene_generator = sample_generators(self.seed, self.epoch, index)
        num_frames = self._num_frames(row)
        views = {"view": (view, self.views)} if self.views > 1 else {}  # plain samplers need not know views
        indices = np.asarray(self.sampler(num_frames, self.mode, rng, **views), dtype=np.int64)
        flat = indices.reshape(-1)
        faces, unreadable = self._read(row, flat, scene=False)
        sample = {
            "video": to_clip_tensor(faces, self.transform, face_generator),
            "label": int(row["label"]),
            "clip_id": str(row["clip_id"]),
            "index": index,
            "view": view,
            "unreadable_frames": unreadable,
        }
        if self.soft_targets:
            sample["target"] = torch.from_numpy(vote_distribution(row.get("votes"), int(row["label"]),
                                                                  self.num_classes))
        if indices.ndim == 2:
            sample["clip_shape"] = torch.tensor(indices.shape, dtype=torch.int64)
        if self.with_scene:
            times = scene_indices(flat, num_frames, _scene_length(row) or len(row["scene_frames"]))
            scenes, unreadable_scenes = self._read(row, times, scene=True)
            sample["scene"] = to_clip_tensor(scenes, self.scene_transform, scene_generator)
            sample["unreadable_frames"] += unreadable_scenes
        return sample

    def _num_frames(self, row: dict) -> int:
        if has_value(row.get("store")):
            return int(row["length"])
        if has_paths(row.get("frames")):
            return len(row["frames"])
        if has_value(row.get("video")):
            if int(row.get("num_frames", 0)) <= 0:
                row["num_frames"] = count_video_frames(row["video"])
            return int(row["num_frames"])
        raise DatasetError(row["clip_id"], "clip has no store entry, frames or video to read")

    def _read(self, row: dict, indices: np.ndarray, scene: bool) -> tuple[np.ndarray, int]:
        """uint8 ``(T, H, W, 3)`` frames at ``indices`` and how many were unreadable."""
        if has_value(row.get("store")) and (not scene or _scene_length(row)):
            return read_clip_frames(row, indices, scene=scene), 0
        wanted = [int(i) for i in np.unique(indices)]
        paths = row.get("scene_frames" if scene else "frames")
        if has_paths(paths):
            frames = {i: self._read_image(paths[i], row["clip_id"]) for i in wanted}
        else:
            try:
                decoded = read_video(row["video"], wanted)
            except DatasetError as error:
                raise DatasetError(row["clip_id"], f"cannot read the clip's video: {error}") from None
            frames = {i: decoded.get(i) for i in wanted}
            for i in wanted:
                if frames[i] is None:
                    self._unreadable(row["video"], row["clip_id"], f"the video ends before frame {i}")
        unreadable = sum(frame is None for frame in frames.values())
        frames = nearest_readable(frames, row["clip_id"])
        try:
            return np.stack([frames[int(i)] for i in indices]), unreadable
        except ValueError:
            shapes = sorted({frame.shape for frame in frames.values()})
            raise DatasetError(row["clip_id"], f"frames of the clip differ in size: {shapes}") from None

    def _read_image(self, path: str, clip_id: str) -> np.ndarray | None:
        try:
            return read_image(path)
        except OSError as error:
            self._unreadable(path, clip_id, str(error))
            return None

    def _unreadable(self, path, clip_id: str, reason: str) -> None:
        """Raise (strict) or warn once per file about an unreadable frame."""
        if self.strict:
            raise DatasetError(path, f"unreadable frame of clip {clip_id}: {reason}")
        if str(path) not in self._warned:
            self._warned.add(str(path))
            warnings.warn(
                f"{path}: unreadable frame of clip {clip_id} ({reason}); using the nearest readable frame",
                UnreadableFrameWarning,
                stacklevel=3,
            )


def _scene_length(row: dict) -> int:
    """Scene frames a store row holds (0 for other rows)."""
    return int(row["scene_length"]) if has_value(row.get("store")) else 0
