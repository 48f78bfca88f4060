import warnings

import av
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from dfer.data.dataset import ClipDataset, UnreadableFrameWarning, nearest_readable, scene_indices
from dfer.data.records import make_table
from dfer.errors import DatasetError
from dfer.data.sampling import make_sampler
from dfer.data.transforms import clip_transform

NUM_FRAMES = 6


def frame_value(clip: int, frame: int) -> int:
    """Grey level of frame ``frame`` of clip ``clip`` in the fixtures (identifies the frame)."""
    return 20 + 30 * frame + 3 * clip


def write_frames(folder, values, size=(32, 32)) -> tuple[str, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, value in enumerate(values):
        path = folder / f"{i + 1}.png"
        Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)
        paths.append(str(path))
    return tuple(paths)


def write_video(path, values, size=(32, 32)) -> str:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "0"})
        stream.width, stream.height = size[1], size[0]
        stream.pix_fmt = "yuv420p"
        for value in values:
            frame = av.VideoFrame.from_ndarray(np.full((*size, 3), value, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return str(path)


@pytest.fixture
def table(tmp_path):
    rows = []
    for clip in range(3):
        frames = write_frames(tmp_path / f"faces/{clip}", [frame_value(clip, i) for i in range(NUM_FRAMES)])
        scenes = write_frames(
            tmp_path / f"scenes/{clip}", [255 - frame_value(clip, i) for i in range(NUM_FRAMES)], size=(16, 24)
        )
        rows.append({
            "clip_id": f"c{clip}", "dataset": "test", "frames": frames, "scene_frames": scenes,
            "label": clip, "split": "train", "num_frames": NUM_FRAMES,
        })
    return make_table(rows)


def fixed(*indices):
    return lambda num_frames, mode, rng: np.array(indices, dtype=np.int64)


def grey_levels(video: torch.Tensor) -> list[int]:
    """Per-frame grey level of an untransformed (C, T, H, W) sample."""
    return [round(float(level)) for level in (video * 255).mean(dim=(0, 2, 3))]


def test_sample_layout_and_sampled_frames(table):
    sample = ClipDataset(table, fixed(0, 2, 5), mode="test")[1]
    assert sample["video"].shape == (3, 3, 32, 32)
    assert sample["video"].dtype == torch.float32
    assert grey_levels(sample["video"]) == [frame_value(1, i) for i in (0, 2, 5)]
    assert (sample["label"], sample["clip_id"], sample["index"], sample["unreadable_frames"]) == (1, "c1", 1, 0)
    assert "scene" not in sample and "clip_shape" not in sample


def test_transform_output_is_channels_first(table):
    dataset = ClipDataset(table, make_sampler("uniform", k=4), transform=clip_transform(True, 16))
    sample = dataset[0]
    assert sample["video"].shape == (3, 4, 16, 16)


def test_reproducible_per_seed_epoch_and_index(table):
    def build(seed):
        return ClipDataset(table, make_sampler("uniform", k=4), transform=clip_transform(True, 24), seed=seed)

    first, again, other = build(0), build(0), build(1)
    assert torch.equal(first[2]["video"], again[2]["video"])
    assert not torch.equal(first[2]["video"], other[2]["video"])
    epoch0 = first[2]["video"]
    first.set_epoch(1)
    assert not torch.equal(first[2]["video"], epoch0)
    first.set_epoch(0)
    assert torch.equal(first[2]["video"], epoch0)


def test_dataloader_workers_give_the_same_batches(table):
    dataset = ClipDataset(table, make_sampler("uniform", k=4), transform=clip_transform(True, 16))
    serial = next(iter(DataLoader(dataset, batch_size=3)))
    parallel = next(iter(DataLoader(dataset, batch_size=3, num_workers=2)))
    assert serial["video"].shape == (3, 3, 4, 16, 16)
    assert torch.equal(serial["video"], parallel["video"])
    assert serial["clip_id"] == ["c0", "c1", "c2"]
    assert serial["unreadable_frames"].tolist() == [0, 0, 0]


def test_two_dimensional_sampler_is_flattened_with_its_shape(table):
    sample = ClipDataset(table, make_sampler("ceflnet"), mode="test")[0]
    assert sample["video"].shape == (3, 35, 32, 32)
    assert sample["clip_shape"].tolist() == [7, 5]
    batch = torch.utils.data.default_collate([sample, sample])
    assert batch["clip_shape"].shape == (2, 2)
    assert batch["video"].view(2, 3, 7, 5, 32, 32).shape[2:4] == (7, 5)


def test_with_scene_returns_aligned_scene_frames(table):
    dataset = ClipDataset(table, fixed(1, 3, 4), mode="test", with_scene=True)
    sample = dataset[2]
    assert sample["scene"].shape == (3, 3, 16, 24)
    assert grey_levels(sample["scene"]) == [255 - frame_value(2, i) for i in (1, 3, 4)]


def test_with_scene_needs_scene_frames(table):
    table.loc[1, "scene_frames"] = None
    with pytest.raises(DatasetError, match="c1"):
        ClipDataset(table, fixed(0), with_scene=True)


def test_scene_indices_follow_time_when_counts_differ():
    indices = np.array([0, 5, 9])
    assert scene_indices(indices, 10, 10).tolist() == [0, 5, 9]
    assert scene_indices(indices, 10, 20).tolist() == [0, 10, 18]
    assert scene_indices(indices, 10, 5).tolist() == [0, 2, 4]


def test_unreadable_frame_is_replaced_counted_and_warned_once(table):
    bad = table.loc[0, "frames"][2]
    with open(bad, "wb") as handle:
        handle.write(b"not an image")
    dataset = ClipDataset(table, fixed(0, 2, 3), mode="test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = dataset[0], dataset[0]
    assert first["unreadable_frames"] == second["unreadable_frames"] == 1
    assert grey_levels(first["video"]) == [frame_value(0, 0), frame_value(0, 3), frame_value(0, 3)]
    messages = [str(w.message) for w in caught if issubclass(w.category, UnreadableFrameWarning)]
    assert len(messages) == 1 and bad in messages[0]


def test_strict_mode_raises_naming_the_file(table):
    bad = table.loc[0, "frames"][1]
    open(bad, "wb").close()
    with pytest.raises(DatasetError, match="2.png"):
        ClipDataset(table, fixed(0, 1), strict=True)[0]


def test_clip_without_any_readable_frame_raises_naming_the_clip(table, tmp_path):
    table.at[1, "frames"] = tuple(str(tmp_path / f"missing{i}.png") for i in range(NUM_FRAMES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreadableFrameWarning)
        with pytest.raises(DatasetError, match="c1"):
            ClipDataset(table, fixed(0, 1))[1]


def test_nearest_readable_prefers_the_closest_frame():
    a, b = np.zeros(1), np.ones(1)
    filled = nearest_readable({0: a, 1: None, 4: None, 5: b}, "clip")
    assert filled[1] is a and filled[4] is b


def test_video_rows_decode_the_sampled_frames(tmp_path):
    values = [frame_value(0, i) for i in range(8)]
    video = write_video(tmp_path / "clip.mp4", values)
    table = make_table([{"clip_id": "v", "dataset": "test", "video": video, "num_frames": 8}])
    sample = ClipDataset(table, fixed(1, 4, 7), mode="test")[0]
    assert sample["video"].shape == (3, 3, 32, 32)
    assert np.allclose(grey_levels(sample["video"]), [values[i] for i in (1, 4, 7)], atol=3)
    assert sample["unreadable_frames"] == 0


def test_video_shorter_than_its_count_reports_missing_frames(tmp_path):
    video = write_video(tmp_path / "clip.mp4", [frame_value(0, i) for i in range(4)])
    table = make_table([{"clip_id": "v", "dataset": "test", "video": video, "num_frames": 10}])
    with pytest.warns(UnreadableFrameWarning, match="ends before frame 9"):
        sample = ClipDataset(table, fixed(0, 3, 9), mode="test")[0]
    assert sample["unreadable_frames"] == 1
    with pytest.raises(DatasetError, match="clip.mp4"):
        ClipDataset(table, fixed(0, 9), strict=True)[0]


def test_mode_is_checked(table):
    with pytest.raises(ValueError, match="mode"):
        ClipDataset(table, fixed(0), mode="val")


def test_views_repeat_each_row_with_its_view_number(table):
    dataset = ClipDataset(table, make_sampler("uniform", k=2), mode="test", views=3)
    assert len(dataset) == 3 * len(table)
    items = [dataset[i] for i in range(6)]
    assert [(s["index"], s["view"]) for s in items] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert not torch.equal(items[0]["video"], items[2]["video"])  # other frames
    single = ClipDataset(table, make_sampler("uniform", k=2), mode="test")
    assert len(single) == len(table) and single[0]["view"] == 0
    with pytest.raises(ValueError, match="views"):
        ClipDataset(table, make_sampler("uniform", k=2), mode="train", views=2)


def test_soft_targets_are_the_vote_shares(table):
    voted = table.assign(votes=[(0, 0, 0, 8, 2, 0, 0)] + [None] * (len(table) - 1))
    dataset = ClipDataset(voted, fixed(0), mode="test", soft_targets=True)
    assert dataset[0]["target"].tolist() == pytest.approx([0, 0, 0, 0.8, 0.2, 0, 0])
    assert dataset[1]["target"].tolist() == [0, 1, 0, 0, 0, 0, 0]  # no votes: the label, one-hot
    with pytest.raises(ValueError, match="votes"):
        ClipDataset(table, fixed(0), soft_targets=True)
