"""Packed frame store: every clip's frames resized once into one memory-mapped uint8 file.

Decoding a JPEG per sampled frame dominates data loading; a store turns it into a slice of a
memory map. Layout of a store folder::

    frames.u8       uint8 (total_frames, H, W, 3), clips back to back in table order
    scenes.u8       uint8 (total_scene_frames, h, w, 3), only when packed with scene_size
    index.parquet   the clip table without the path tuples, plus offset/length and
                    scene_offset/scene_length (frame units; -1/0 when a clip has no scenes)
    store.json      format, version, size, scene_size, counts and source; written last

:func:`open_store` gives back a clip table (``frames`` None, extra :data:`STORE_COLUMNS`) that
:class:`dfer.data.dataset.ClipDataset` reads transparently. """

from __future__ import annotations

import json
import logging
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from dfer.data.records import COLUMNS, has_paths, has_value
from dfer.errors import DatasetError, InputError
from dfer.io.frames import Size, as_hw, read_image, read_video, resize_frame
from dfer.io.video import short_of

logger = logging.getLogger(__name__)

FORMAT = "dfer-packed-frames"
VERSION = 1
FRAMES_FILE = "frames.u8"
SCENES_FILE = "scenes.u8"
INDEX_FILE = "index.parquet"
META_FILE = "store.json"
#: Columns :func:`open_store` adds to the clip table.
STORE_COLUMNS = ("store", "offset", "length", "scene_offset", "scene_length")
PATH_COLUMNS = ("frames", "scene_frames")


# --- packing -------------------------------------------------------------------------------------


def pack(
    table: pd.DataFrame,
    out_dir: str | Path,
    size: Size = 112,
    scene_size: Size | None = None,
    workers: int = 1,
    progress: bool = True,
) -> Path:
    """Write every clip of ``table`` into a packed store in ``out_dir``; returns ``out_dir``.

    Face frames come from ``frames`` (or are decoded from ``video`` when a row has none) and are
    resized to ``size``; with ``scene_size``, ``scene_frames`` go to ``scenes.u8``. ``workers``
    threads decode ahead while the clips are written sequentially in table order. Everything is
    written to temporary files that replace the store's files only at the end, ``store.json``
    last, so an interrupted pack never leaves a store that looks complete. Missing or unreadable
    files raise :class:`DatasetError` naming the clip and file.
    """
    if table.empty:
        raise InputError("the clip table is empty; nothing to pack")
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise InputError(f"not a clip table: missing columns {missing}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    size = as_hw(size)
    scene_size = None if scene_size is None else as_hw(scene_size)
    rows = table.to_dict("records")
    names = [FRAMES_FILE, INDEX_FILE, META_FILE] + ([SCENES_FILE] if scene_size else [])
    temporary = {name: out_dir / f".{name}.partial" for name in names}
    try:
        index = _write_frames(rows, size, scene_size, temporary, workers, progress)
        index.to_parquet(temporary[INDEX_FILE], index=False)
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "size": list(size),
            "scene_size": None if scene_size is None else list(scene_size),
            "count": len(index),
            "frames": int(index["length"].sum()),
            "scene_frames": int(index["scene_length"].sum()),
            "source": sorted(str(name) for name in table["dataset"].unique()),
        }
        temporary[META_FILE].write_text(json.dumps(meta, indent=2))
        _commit(out_dir, temporary)
    finally:
        for path in temporary.values():
            path.unlink(missing_ok=True)
    logger.info("packed %d clips (%d frames) into %s", meta["count"], meta["frames"], out_dir)
    return out_dir


def _write_frames(
    rows: list[dict],
    size: tuple[int, int],
    scene_size: tuple[int, int] | None,
    temporary: dict[str, Path],
    workers: int,
    progress: bool,
) -> pd.DataFrame:
    """Stream every clip's resized frames into the temporary files; returns the index table."""
    offset = scene_offset = 0
    records = []
    scene_file = open(temporary[SCENES_FILE], "wb") if scene_size else None
    try:
        with open(temporary[FRAMES_FILE], "wb") as frame_file:
            loaded = _ordered_map(partial(_load_clip, size=size, scene_size=scene_size), rows, workers)
            for row, (faces, scenes) in tqdm(
                zip(rows, loaded), total=len(rows), unit="clip", desc="pack", disable=None if progress else True
            ):
                frame_file.write(memoryview(faces))
                scene_length = 0 if scenes is None else len(scenes)
                if scene_length:
                    scene_file.write(memoryview(scenes))
                records.append({
                    **{k: v for k, v in row.items() if k in COLUMNS and k not in PATH_COLUMNS},
                    "video": str(row["video"]) if has_value(row["video"]) else None,
                    "num_frames": len(faces),
                    "offset": offset,
                    "length": len(faces),
                    "scene_offset": scene_offset if scene_length else -1,
                    "scene_length": scene_length,
                })
                offset += len(faces)
                scene_offset += scene_length
    finally:
        if scene_file is not None:
            scene_file.close()
    index = pd.DataFrame(records)
    for column in ("label", "fold", "num_frames", "offset", "length", "scene_offset", "scene_length"):
        index[column] = index[column].astype(np.int64)
    return index


def _load_clip(
    row: dict, size: tuple[int, int], scene_size: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Resized ``(faces, scenes)`` uint8 arrays of one clip (scenes None when not packed)."""
    clip_id = row["clip_id"]
    if has_value(row.get("store")):  # re-packing a store: its own frames, not the sources it was made from
        faces = np.stack([resize_frame(frame, size) for frame in read_clip_frames(row, np.arange(row["length"]))])
        scenes = None
        if scene_size is not None and row.get("scene_length", 0) > 0:
            scenes = np.stack([resize_frame(frame, scene_size)
                               for frame in read_clip_frames(row, np.arange(row["scene_length"]), scene=True)])
        return faces, scenes
    if has_paths(row.get("frames")):
        faces = _load_images(row["frames"], size, clip_id)
    elif has_value(row.get("video")):
        decoded = read_video(row["video"])
        if not decoded:
            raise DatasetError(row["video"], f"clip {clip_id}: the video has no frames")
        missing = short_of(int(row.get("num_frames") or 0), len(decoded))
        if missing:
            raise DatasetError(row["video"], f"clip {clip_id}: {missing}")
        faces = np.stack([resize_frame(decoded[i], size) for i in sorted(decoded)])
    else:
        raise DatasetError(clip_id, "clip has neither frames nor a video to pack")
    scenes = None
    if scene_size is not None and has_paths(row.get("scene_frames")):
        scenes = _load_images(row["scene_frames"], scene_size, clip_id)
    return faces, scenes


def _load_images(paths: Sequence[str], size: tuple[int, int], clip_id: str) -> np.ndarray:
    frames = []
    for path in paths:
        try:
            frames.append(resize_frame(read_image(path), size))
        except FileNotFoundError:
            raise DatasetError(path, f"clip {clip_id}: frame file not found") from None
        except OSError as error:
            raise DatasetError(path, f"clip {clip_id}: cannot read the frame ({error})") from None
    return np.stack(frames)


def _ordered_map(function: Callable, items: Sequence, workers: int) -> Iterator:
    """``map(function, items)`` in order, computed by up to ``workers`` threads a bounded way ahead."""
    if workers <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _commit(out_dir: Path, temporary: dict[str, Path]) -> None:
    """Move the temporary files into place: the old ``store.json`` goes first, the new one last."""
    (out_dir / META_FILE).unlink(missing_ok=True)
    if SCENES_FILE not in temporary:
        (out_dir / SCENES_FILE).unlink(missing_ok=True)
    for name, path in temporary.items():
        if name != META_FILE:
            os.replace(path, out_dir / name)
    os.replace(temporary[META_FILE], out_dir / META_FILE)
    _OPEN.pop(str(out_dir.resolve()), None)


# --- reading -------------------------------------------------------------------------------------

#: Memory maps of the stores read in this process, by resolved store path.
_OPEN: dict[str, tuple[np.memmap | None, np.memmap | None]] = {}


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a complete packed store (its ``store.json`` names this format)."""
    meta = Path(path) / META_FILE
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("format") == FORMAT
    except (json.JSONDecodeError, OSError, AttributeError):
        return False


def read_meta(path: str | Path) -> dict:
    """The ``store.json`` of a complete store (DatasetError otherwise)."""
    path = Path(path)
    if not is_store(path):
        raise DatasetError(path, f"not a packed store (no complete {META_FILE}; was packing interrupted?)")
    meta = json.loads((path / META_FILE).read_text())
    if meta["version"] != VERSION:
        raise DatasetError(path / META_FILE, f"store version {meta['version']}, this dfer reads {VERSION}")
    return meta


def open_store(path: str | Path) -> pd.DataFrame:
    """Clip table of a packed store: :data:`COLUMNS` (``frames`` None) plus :data:`STORE_COLUMNS`."""
    path = Path(path).resolve()
    meta = read_meta(path)
    _OPEN.pop(str(path), None)
    _memmaps(str(path))  # validates the data files against store.json
    table = pd.read_parquet(path / INDEX_FILE)
    if len(table) != meta["count"]:
        raise DatasetError(path / INDEX_FILE, f"{len(table)} clips, store.json says {meta['count']}")
    table["frames"] = None
    table["scene_frames"] = None
    table["video"] = table["video"].astype(object).where(table["video"].notna(), None)
    table["store"] = str(path)
    return table[list(COLUMNS) + list(STORE_COLUMNS)]


def read_clip_frames(row, indices: Sequence[int] | np.ndarray, scene: bool = False) -> np.ndarray:
    """uint8 ``(T, H, W, 3)`` frames ``indices`` (clip-relative) of a store row; ``scene`` for scenes."""
    frames, scenes = _memmaps(str(row["store"]))
    array = scenes if scene else frames
    offset, length = (row["scene_offset"], row["scene_length"]) if scene else (row["offset"], row["length"])
    if array is None or length == 0:
        kind = "scene" if scene else "face"
        raise DatasetError(row["store"], f"clip {row['clip_id']}: no {kind} frames in the store")
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= length):
        raise IndexError(f"clip {row['clip_id']}: frame indices {indices.tolist()} outside 0..{length - 1}")
    return np.asarray(array[int(offset) + indices])


def _memmaps(store: str) -> tuple[np.memmap | None, np.memmap | None]:
    """``(frames, scenes)`` memory maps of a store, opened once per process."""
    if store not in _OPEN:
        meta = read_meta(store)
        frames = _map(Path(store) / FRAMES_FILE, meta["frames"], meta["size"])
        scenes = None
        if meta["scene_size"] is not None and meta["scene_frames"]:
            scenes = _map(Path(store) / SCENES_FILE, meta["scene_frames"], meta["scene_size"])
        _OPEN[store] = (frames, scenes)
    return _OPEN[store]


def _map(path: Path, count: int, size: Sequence[int]) -> np.memmap:
    shape = (int(count), int(size[0]), int(size[1]), 3)
    expected = int(np.prod(shape))
    actual = path.stat().st_size if path.is_file() else -1
    if actual != expected:
        raise DatasetError(path, f"expected {expected} bytes for frames of shape {shape}, found {actual}")
    return np.memmap(path, dtype=np.uint8, mode="r", shape=shape)
