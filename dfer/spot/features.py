"""Snippet features of long videos (``dfer spot features``) and their rescaling for localizers.

A trained dfer video model (any zoo family: 2D, 2D-LSTM, 3D, two-stream, TSN, CEFLNet) is the
extractor: each snippet of ``snippet`` consecutive face crops (16, as SDFE-LV; every ``stride``
frames) goes through the model's test sampler and transform, and its pooled ``features`` (the
layer before the classifier) are the snippet's feature. A video's features are stored as
``OUT/<video>.npy`` ``(snippets, dim)`` float32 (written atomically, so a re-run skips finished
videos); ``OUT/snippets.csv`` gives each snippet's frames and ``OUT/features.json`` the extractor.

:func:`rescale` brings a ``(snippets, dim)`` sequence to the ``T`` positions a localizer takes
(BMN: 100) as BMN does: each of ``T`` equal bins over the snippet axis is sampled at 3 points,
features linearly interpolated there and averaged (the input rescaling of BMN, Lin et al., ICCV 2019).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dfer.data.records import list_frames
from dfer.engine.inference import VideoModel
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import atomic_path, write_json, write_table

SNIPPET = 16


def snippet_starts(frames: int, snippet: int = SNIPPET, stride: int = SNIPPET) -> np.ndarray:
    """First frame of each snippet: every ``stride`` frames while a snippet starts inside the
    video (the last ones are padded by repeating the last frame)."""
    if frames < 1:
        raise InputError("a video needs at least one frame")
    if snippet < 1 or stride < 1:
        raise InputError(f"snippet and stride must be positive, got {snippet}, {stride}")
    return np.arange(0, frames, stride)


def rescale(features: np.ndarray, length: int = 100, samples: int = 3) -> np.ndarray:
    """``(snippets, dim)`` → ``(length, dim)``: per bin, the mean of ``samples`` linearly
    interpolated points spread over the bin (positions in snippet units, snippet i at i + 0.5)."""
    features = np.asarray(features, np.float64)
    count = len(features)
    if count == 0:
        raise InputError("no snippet features to rescale")
    edges = np.linspace(0.0, count, length + 1)
    offsets = (np.arange(samples) + 0.5) / samples
    points = edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * offsets[None, :]  # (length, samples)
    positions = np.clip(points.ravel() - 0.5, 0, count - 1)
    low = np.floor(positions).astype(int)
    high = np.minimum(low + 1, count - 1)
    weight = (positions - low)[:, None]
    values = features[low] * (1 - weight) + features[high] * weight
    return values.reshape(length, samples, -1).mean(axis=1).astype(np.float32)


def face_folders(root: Path) -> dict[str, Path]:
    """Video → folder of its face crops under ``root``: ``root/<video>/`` holding frames, or (the
    ``dfer preprocess`` frames layout) ``root/<video>/track_<t>/`` — the track with most frames."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "no such folder of face crops")
    folders = {}
    for video in sorted(p for p in root.iterdir() if p.is_dir()):
        tracks = sorted(video.glob("track_*"))
        folders[video.name] = max(tracks, key=lambda t: len(list_frames(t))) if tracks else video
    if not folders:
        raise DatasetError(root, "no video folders with face crops")
    return folders


def frame_paths(folder: Path) -> list[str]:
    """One face crop per frame, in order. Crops named by frame index (``000123.jpg``, as ``dfer
    preprocess`` writes them) may have gaps where the face was lost: such a frame takes the nearest
    crop, so snippets stay aligned with the video's frames (up to its last crop)."""
    paths = list_frames(folder)
    if not paths:
        raise DatasetError(folder, "no face crops")
    stems = [Path(path).stem for path in paths]
    if not all(stem.isdigit() for stem in stems):
        return list(paths)
    found = dict(zip(map(int, stems), paths))
    indices = np.array(sorted(found))
    wanted = np.arange(indices[-1] + 1)
    after = indices[np.clip(np.searchsorted(indices, wanted), 0, len(indices) - 1)]
    before = indices[np.clip(np.searchsorted(indices, wanted, side="right") - 1, 0, len(indices) - 1)]
    nearest = np.where(np.abs(after - wanted) < np.abs(wanted - before), after, before)
    return [found[int(i)] for i in nearest]


class SnippetExtractor:
    """A trained dfer checkpoint as a snippet feature extractor."""

    def __init__(self, checkpoint: str | Path, device: str = "cpu"):
        self.video_model = VideoModel.from_checkpoint(checkpoint, device)
        self.name = self.video_model.name
        self.two_stream = bool(self.video_model.scene_size)

    def __call__(self, snippets: list[list[np.ndarray]], scenes: list[list[np.ndarray]] | None = None) -> np.ndarray:
        """``(len(snippets), dim)`` features of snippets of uint8 RGB face crops (and, for a
        two-stream model, the matching scene frames)."""
        model = self.video_model
        if self.two_stream and scenes is None:
            raise InputError(f"{self.name} is a two-stream model: give the scene frames too (--scenes)")
        pairs = [model.window_input(faces, scenes[i] if self.two_stream else None) for i, faces in enumerate(snippets)]
        video = torch.stack([pair[0] for pair in pairs])
        scene = torch.stack([pair[1] for pair in pairs]) if self.two_stream else None
        return model.outputs(video, scene)["features"].numpy()


def video_features(extractor: "SnippetExtractor", frames, scenes=None, snippet: int = SNIPPET,
                   stride: int = SNIPPET, batch: int = 16) -> np.ndarray:
    """``(snippets, dim)`` features of one video given as the paths of its face crops, one per
    frame in order (and of its scene frames, for two-stream extractors)."""
    images, scene_images = _Frames(frames), _Frames(scenes) if scenes is not None else None
    starts = snippet_starts(len(frames), snippet, stride)
    parts = []
    for first in range(0, len(starts), batch):
        window = [[min(s + k, len(frames) - 1) for k in range(snippet)] for s in starts[first:first + batch]]
        parts.append(extractor([images.get(w) for w in window],
                               [scene_images.get(w) for w in window] if scene_images else None))
        following = starts[first + batch] if first + batch < len(starts) else len(frames)
        for source in (images, scene_images) if scene_images else (images,):
            source.forget_before(following)
    return np.concatenate(parts).astype(np.float32)


def extract_features(faces_root: str | Path, out: str | Path, checkpoint: str | Path, snippet: int = SNIPPET,
                     stride: int = SNIPPET, batch: int = 16, videos: list[str] | None = None,
                     scenes_root: str | Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Features of every video under ``faces_root`` (see the module docstring; ``scenes_root``:
    the scene frames, same layout and numbering, for two-stream extractors); returns the snippet table."""
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    folders = face_folders(faces_root)
    if videos is not None:
        unknown = sorted(set(videos) - set(folders))
        if unknown:
            raise DatasetError(faces_root, f"no face folder for video(s) {unknown[:5]}")
        folders = {video: folders[video] for video in videos}
    extractor = SnippetExtractor(checkpoint)
    record = {"extractor": extractor.name, "checkpoint": str(checkpoint), "snippet": snippet, "stride": stride}
    previous = out / "features.json"
    if previous.is_file():
        old = json.loads(previous.read_text())
        changed = sorted(k for k in ("checkpoint", "snippet", "stride") if old.get(k) != record[k])
        if changed:
            raise InputError(f"{out} holds features made with other settings ({', '.join(changed)}); use a new folder")
    rows, started, dim = [], time.perf_counter(), None
    for video, folder in tqdm(folders.items(), desc="spot features", unit="video", disable=None if progress else True):
        frames = frame_paths(folder)
        starts = snippet_starts(len(frames), snippet, stride)
        rows += [{"video": video, "snippet": i, "start_frame": int(s), "end_frame": int(min(s + snippet, len(frames)) - 1),
                  "frames": len(frames)} for i, s in enumerate(starts)]
        target = out / f"{video}.npy"
        if target.is_file():
            continue
        scenes = None
        if extractor.two_stream:
            if scenes_root is None:
                raise InputError(f"{extractor.name} is a two-stream model: give the scene frames too (--scenes)")
            scenes = list_frames(Path(scenes_root) / video)
            if len(scenes) != len(frames):
                raise DatasetError(Path(scenes_root) / video, f"{len(scenes)} scene frames but {len(frames)} face crops")
        features = video_features(extractor, frames, scenes, snippet, stride, batch)
        dim = features.shape[1]
        with atomic_path(target) as partial:
            with open(partial, "wb") as handle:
                np.save(handle, features)
    table = pd.DataFrame(rows, columns=["video", "snippet", "start_frame", "end_frame", "frames"])
    write_table(out / "snippets.csv", table)
    dim = dim or int(np.load(out / f"{next(iter(folders))}.npy", mmap_mode="r").shape[1])
    write_json(previous, {**record, "dim": dim, "videos": len(folders), "snippets": len(table),
                          "seconds": round(time.perf_counter() - started, 2)})
    return table


class _Frames:
    """A video's frames read on demand and forgotten once passed, so memory stays flat."""

    def __init__(self, paths):
        self.paths = list(paths)
        self.cache: dict[int, np.ndarray] = {}

    def get(self, indices) -> list[np.ndarray]:
        import cv2

        for index in indices:
            if index not in self.cache:
                image = cv2.imread(str(self.paths[index]))
                if image is None:
                    raise DatasetError(self.paths[index], "unreadable image")
                self.cache[index] = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        return [self.cache[index] for index in indices]

    def forget_before(self, index: int) -> None:
        for old in [i for i in self.cache if i < index]:
            del self.cache[old]


def load_features(folder: str | Path, video: str) -> np.ndarray:
    """The ``(snippets, dim)`` features of one video."""
    path = Path(folder) / f"{video}.npy"
    if not path.is_file():
        raise DatasetError(path, f"no features for video {video!r}; run dfer spot features")
    return np.load(path)
