"""Synthetic long videos for spotting: episodes, annotators, max-voted finals, subject splits."""

import numpy as np
import pandas as pd
import pytest

from dfer.cli import main
from dfer.data.long_video import read_long_videos
from dfer.data.splits import subject_splits
from dfer.data.synth_long import LENGTHS, annotate, plan_episodes, write_long
from dfer.io.video import probe

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


def test_episode_lengths_cover_short_typical_and_long():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([[(e.offset - e.onset + 1) / 25 for e in plan_episodes(1000, 25, rng)]
                              for _ in range(40)])
    for share, low, high in LENGTHS:
        inside = ((lengths >= low - 0.04) & (lengths <= high + 0.04)).mean()
        assert abs(inside - share) < 0.1, (low, high, inside)


def test_annotators_stay_inside_the_gaps_and_never_overlap():
    rng = np.random.default_rng(1)
    for _ in range(50):
        episodes = plan_episodes(800, 25, rng)
        for marks in annotate(episodes, 800, rng).values():
            assert all(a[1] < b[0] for a, b in zip(marks, marks[1:]))
            assert all(0 <= m[0] <= m[1] < 800 and 1 <= m[2] <= 6 for m in marks)


def test_subject_splits_are_6_2_2_and_subject_independent():
    splits = subject_splits([f"s{i}" for i in range(10)], seed=3)
    assert sorted(splits.values()).count("train") == 6 and list(splits.values()).count("test") == 2


@pytest.mark.parametrize("seed", range(5))
def test_subject_splits_are_6_2_2_of_the_samples_when_subjects_differ_in_size(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 30, size=25)  # SDFE-LV's subjects have very different numbers of videos
    samples = [f"s{i}" for i, size in enumerate(sizes) for _ in range(size)]
    splits = subject_splits(samples, seed=seed)
    assert set(splits) == set(samples)  # every subject in exactly one split
    shares = {name: sum(splits[s] == name for s in samples) / len(samples) for name in ("train", "validation", "test")}
    for name, share in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        assert abs(shares[name] - share) <= sizes.max() / len(samples), (shares, sizes.max() / len(samples))
    assert min(shares.values()) > 0 and subject_splits(samples, seed=seed) == splits  # seeded


def test_subject_splits_with_few_subjects_still_fill_every_split():
    splits = subject_splits(["a"] * 50 + ["b"] * 2 + ["c"] * 1)
    assert sorted(splits.values()) == ["test", "train", "validation"]


@pytest.fixture(scope="module")
def long_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    summary = write_long(root, 6, seed=0, size=32, progress=False, seconds=(12.0, 16.0), videos_per_subject=1)
    return root, summary


def covered(intervals: pd.DataFrame, frames: int) -> np.ndarray:
    """The frames (onset … offset, inclusive) that some interval covers."""
    mask = np.zeros(frames, bool)
    for onset, offset in intervals[["onset", "offset"]].itertuples(index=False):
        mask[onset:offset + 1] = True
    return mask


def test_written_videos_faces_and_annotations(long_videos):
    root, summary = long_videos
    table = read_long_videos(root / "annotations.json")
    truth = pd.read_csv(root / "episodes.csv")
    assert set(table.annotator) == {"a1", "a2", "a3", "a4", "a5", "final"}
    assert {split: len(v) for split, v in summary["splits"].items()} == {"train": 4, "validation": 1, "test": 1}
    for video, rows in table.groupby("video"):
        frames = int(rows.frames.iloc[0])
        assert probe(root / "videos" / f"{video}.mp4").frames == frames
        assert len(list((root / "faces" / video).glob("*.jpg"))) == frames
        final = covered(rows[rows.annotator == "final"], frames)
        true = covered(truth[truth.video == video], frames)
        assert (final & true).sum() / (final | true).sum() > 0.85  # max-voting 5 annotators recovers the episodes
    assert summary["episodes"] == len(truth) and summary["frames"] == table.drop_duplicates("video").frames.sum()


def test_command_line(tmp_path, capsys):
    assert main(["synth", "--format", "long", "--out", str(tmp_path), "--clips", "1", "--size", "16"]) == 0
    assert '"format": "long"' in capsys.readouterr().out
