import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from dfer.data import packed
from dfer.data.dataset import ClipDataset
from dfer.data.packed import STORE_COLUMNS, is_store, open_store, pack, read_clip_frames
from dfer.io.frames import read_image, resize_frame
from dfer.data.records import COLUMNS, make_table
from dfer.errors import DatasetError
from dfer.data.sampling import make_sampler
from dfer.data.transforms import Compose, Resize, ToFloat

FRAME_COUNTS = (5, 3, 7)


def write_frames(folder, frames) -> tuple[str, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = folder / f"{i}.png"
        Image.fromarray(frame).save(path)
        paths.append(str(path))
    return tuple(paths)


def smooth_frames(count, size, seed) -> list[np.ndarray]:
    """Frames of smooth random colour gradients (resizing them is well-conditioned)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0 : size[0], 0 : size[1]] / max(size)
    frames = []
    for _ in range(count):
        a, b, c = rng.uniform(0, 1, (3, 3))
        frame = 40 + 170 * (a * ys[..., None] + b * xs[..., None] + c) / 3
        frames.append(frame.astype(np.uint8))
    return frames


def write_video(path, frames) -> str:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return str(path)


@pytest.fixture
def table(tmp_path):
    rows = []
    for clip, count in enumerate(FRAME_COUNTS):
        rows.append({
            "clip_id": f"c{clip}", "dataset": "test", "label": clip, "split": "test", "fold": 1,
            "scene": "Action", "scenario": "WIS", "num_frames": count,
            "frames": write_frames(tmp_path / f"faces/{clip}", smooth_frames(count, (32, 32), clip)),
            "scene_frames": write_frames(tmp_path / f"scenes/{clip}", smooth_frames(count, (24, 36), 10 + clip)),
        })
    return make_table(rows)


def test_pack_round_trip(table, tmp_path):
    store = pack(table, tmp_path / "store", size=16, progress=False)
    meta = json.loads((store / "store.json").read_text())
    assert meta["size"] == [16, 16] and meta["scene_size"] is None
    assert meta["count"] == 3 and meta["frames"] == sum(FRAME_COUNTS) and meta["source"] == ["test"]
    packed_table = open_store(store)
    assert list(packed_table.columns) == list(COLUMNS) + list(STORE_COLUMNS)
    assert packed_table["frames"].isna().all() and packed_table["video"].isna().all()
    assert packed_table["offset"].tolist() == [0, 5, 8]
    assert packed_table["length"].tolist() == packed_table["num_frames"].tolist() == list(FRAME_COUNTS)
    for column in ("clip_id", "label", "split", "fold", "scene", "scenario"):
        assert packed_table[column].tolist() == table[column].tolist()
    for (_, row), (_, source) in zip(packed_table.iterrows(), table.iterrows()):
        got = read_clip_frames(row, np.arange(row["length"]))
        expected = np.stack([resize_frame(read_image(path), (16, 16)) for path in source["frames"]])
        assert got.dtype == np.uint8 and np.array_equal(got, expected)
    assert read_clip_frames(packed_table.iloc[2], [6, 0, 6]).shape == (3, 16, 16, 3)


def test_store_samples_match_the_image_folder_samples(table, tmp_path):
    store_table = open_store(pack(table, tmp_path / "store", size=16, progress=False))
    transform = Compose([Resize(16), ToFloat()])
    sampler = make_sampler("uniform", k=4)
    from_images = ClipDataset(table, sampler, mode="train", transform=transform, seed=3)
    from_store = ClipDataset(store_table, sampler, mode="train", transform=transform, seed=3)
    for i in range(len(table)):
        a, b = from_images[i], from_store[i]
        assert (a["clip_id"], a["label"]) == (b["clip_id"], b["label"])
        assert a["video"].shape == b["video"].shape == (3, 4, 16, 16)
        assert torch.allclose(a["video"], b["video"], atol=3 / 255)


def test_scenes_are_packed_and_aligned(table, tmp_path):
    store_table = open_store(pack(table, tmp_path / "store", size=16, scene_size=(12, 18), progress=False))
    assert store_table["scene_length"].tolist() == list(FRAME_COUNTS)
    scene_transform = Compose([Resize((12, 18)), ToFloat()])
    sampler = lambda n, mode, rng: np.array([0, n - 1])  # noqa: E731
    from_images = ClipDataset(table, sampler, mode="test", with_scene=True, scene_transform=scene_transform)
    from_store = ClipDataset(store_table, sampler, mode="test", with_scene=True)
    a, b = from_images[2], from_store[2]
    assert b["scene"].shape == (3, 2, 12, 18)
    assert torch.allclose(a["scene"], b["scene"], atol=3 / 255)


def test_a_store_is_repacked_from_its_own_frames(tmp_path, monkeypatch):
    """Re-packing read the source videos by cwd-relative path (and took scene frames for faces)."""
    frames = smooth_frames(6, (32, 48), 0)
    video = write_video(tmp_path / "clip.mp4", frames)
    table = make_table([{"clip_id": "v", "dataset": "test", "video": video, "num_frames": 6}])
    first = open_store(pack(table, tmp_path / "store", size=(16, 24), progress=False))
    (tmp_path / "clip.mp4").unlink()  # the source is gone: only the store's frames can be read
    monkeypatch.chdir(tmp_path.parent)
    again = open_store(pack(first, tmp_path / "smaller", size=(8, 12), progress=False))
    stored = read_clip_frames(first.iloc[0], np.arange(6))
    expected = np.stack([resize_frame(frame, (8, 12)) for frame in stored]).astype(int)
    assert np.abs(read_clip_frames(again.iloc[0], np.arange(6)).astype(int) - expected).max() <= 1


def test_video_rows_are_decoded_into_the_store(tmp_path):
    frames = smooth_frames(6, (32, 48), 0)
    video = write_video(tmp_path / "clip.mp4", frames)
    table = make_table([{"clip_id": "v", "dataset": "test", "video": video, "num_frames": 6}])
    store_table = open_store(pack(table, tmp_path / "store", size=(16, 24), progress=False))
    row = store_table.iloc[0]
    assert row["length"] == 6 and row["video"] == video
    got = read_clip_frames(row, np.arange(6)).astype(int)
    expected = np.stack([resize_frame(frame, (16, 24)) for frame in frames]).astype(int)
    assert np.abs(got - expected).mean() < 3


def test_a_truncated_video_is_refused_not_packed_short(tmp_path):
    from tests.conftest import make_truncated_mp4

    video = str(make_truncated_mp4(tmp_path / "cut.mp4"))
    table = make_table([{"clip_id": "c", "dataset": "test", "video": video, "num_frames": 27}])
    with pytest.raises(DatasetError, match="clip c: truncated: decoded 7 of the 27 frames"):
        pack(table, tmp_path / "store", size=(16, 24), progress=False)
    assert not (tmp_path / "store" / "store.json").exists()  # nothing that looks like a store


def test_workers_write_the_same_store(table, tmp_path):
    one = pack(table, tmp_path / "one", size=16, progress=False)
    many = pack(table, tmp_path / "many", size=16, workers=3, progress=False)
    assert (one / "frames.u8").read_bytes() == (many / "frames.u8").read_bytes()


def test_missing_frame_names_clip_and_file(table, tmp_path):
    missing = table.loc[1, "frames"][2]
    Path(missing).unlink()
    with pytest.raises(DatasetError, match=r"2\.png.*clip c1"):
        pack(table, tmp_path / "store", progress=False)


def test_interrupted_pack_leaves_no_store_and_repack_works(table, tmp_path, monkeypatch):
    calls = []
    load_clip = packed._load_clip

    def failing_load(row, **kwargs):
        calls.append(row["clip_id"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return load_clip(row, **kwargs)

    out = tmp_path / "store"
    monkeypatch.setattr(packed, "_load_clip", failing_load)
    with pytest.raises(KeyboardInterrupt):
        pack(table, out, size=16, progress=False)
    assert not is_store(out) and sorted(p.name for p in out.iterdir()) == []
    with pytest.raises(DatasetError, match="not a packed store"):
        open_store(out)
    monkeypatch.setattr(packed, "_load_clip", load_clip)
    assert len(open_store(pack(table, out, size=16, progress=False))) == 3


def test_failed_repack_keeps_the_previous_store(table, tmp_path):
    out = pack(table, tmp_path / "store", size=16, progress=False)
    before = (out / "frames.u8").read_bytes()
    broken = table.copy()
    broken.at[2, "frames"] = (str(tmp_path / "gone.png"),)
    with pytest.raises(DatasetError, match="gone.png"):
        pack(broken, out, size=8, progress=False)
    assert is_store(out) and (out / "frames.u8").read_bytes() == before
    assert len(open_store(out)) == 3


def test_truncated_store_is_rejected(table, tmp_path):
    out = pack(table, tmp_path / "store", size=16, progress=False)
    with open(out / "frames.u8", "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(DatasetError, match="frames.u8"):
        open_store(out)


def test_out_of_range_indices_raise(table, tmp_path):
    row = open_store(pack(table, tmp_path / "store", size=16, progress=False)).iloc[1]
    with pytest.raises(IndexError, match="c1"):
        read_clip_frames(row, [0, 3])


def test_is_store_and_clip_without_source(tmp_path):
    assert not is_store(tmp_path)
    table = make_table([{"clip_id": "empty", "dataset": "test"}])
    with pytest.raises(DatasetError, match="empty"):
        pack(table, tmp_path / "store", progress=False)
