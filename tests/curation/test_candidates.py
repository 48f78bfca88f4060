"""Candidate-clip stages: scene balance, random cuts, rules on real fixture tables, caps, expression balance."""

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.curation.candidates import (CandidateOptions, balance_expressions, balance_scenes, cap_candidates, check_clip,
                                   random_cuts)
from dfer.preprocess import options_from, preprocess

from tests.conftest import SHARED

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


def test_random_cuts_are_consecutive_and_within_bounds():
    rng = np.random.default_rng(0)
    cuts = random_cuts(1000, 25.0, rng)
    assert cuts[0][0] == 0 and all(b[0] == a[1] + 1 for a, b in zip(cuts, cuts[1:]))
    lengths = [end - start + 1 for start, end in cuts]
    assert min(lengths) >= 12 and max(lengths) <= 100 and cuts[-1][1] <= 999
    assert random_cuts(10, 25.0, rng) == []  # shorter than 0.5 s


def test_scene_balance_removes_whole_videos_down_to_the_smallest_scene():
    videos = pd.DataFrame({"scene": ["A"] * 5 + ["B"] * 2, "duration": [10, 20, 30, 40, 50, 25, 30]})
    result = balance_scenes(videos, seed=0)
    kept = result[result.kept].groupby("scene").duration.sum()
    assert kept["B"] == 55 and kept["A"] <= 55
    assert result[~result.kept].reason.str.startswith("scene balance").all()


def test_scene_balance_never_empties_a_scene():
    videos = pd.DataFrame({"scene": ["A", "B", "B"], "duration": [3.9, 6.4, 19.7]})  # B's videos both exceed 3.9 s
    result = balance_scenes(videos, seed=0)
    assert result.groupby("scene").kept.sum().tolist() == [1, 1]


def test_caps_on_a_read_only_index():
    """Under pandas 3 (copy-on-write) an index's numpy view is read-only; shuffling it failed."""
    clips = pd.DataFrame({"video": ["a"] * 6, "reason": [""] * 6}, index=pd.Index([3, 5, 7, 9, 11, 13]))
    clips = clips[clips.index > 4]
    assert cap_candidates(clips, CandidateOptions(target=1, oversample=2)).kept.sum() == 2
    videos = pd.DataFrame({"scene": ["A"] * 4, "duration": [1.0] * 4}, index=pd.Index([2, 4, 6, 8]))
    assert balance_scenes(videos[videos.index > 2], target=2.0).kept.sum() == 2


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    videos = [SHARED / "videos" / name for name in ("single_face.mp4", "face_noface.mov", "noface_face.mov", "no_face.mp4")]
    preprocess(videos, out, options_from("frames", face_sizes=(112,), scene_sizes=()), workers=2, progress=False)
    return {path.stem: pd.read_parquet(path) for path in (out / "tables").glob("*.parquet")}


def clips_of(tables, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for video, table in tables.items():
        frames = table.frame.nunique()
        for start, end in random_cuts(frames, 25.0, rng):
            reason, figures = check_clip(table[(table.frame >= start) & (table.frame <= end)])
            rows.append({"video": video, "start": start, "end": end, "reason": reason, **figures})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(4))
def test_rules_on_real_videos(tables, seed):
    clips = clips_of(tables, seed)
    passed = clips[clips.reason == ""]
    assert not (passed.video == "no_face").any()
    assert (clips[clips.video == "no_face"].reason == "face_coverage").all()
    for video, cut in (("face_noface", 72), ("noface_face", 96)):
        spanning = clips[(clips.video == video) & (clips.start < cut) & (clips.end > cut)]
        assert set(spanning.reason) <= {"shot_cut", "face_coverage"} and len(spanning) <= 1
        assert not ((passed.video == video) & (passed.start < cut) & (passed.end > cut)).any()
    assert (clips[clips.video == "single_face"].reason == "").all()


def test_small_faces_and_identity_rules(tables):
    table = tables["single_face"]
    assert check_clip(table, CandidateOptions(min_face_size=500))[0] == "face_too_small"
    two = table.copy()
    two.loc[two.frame > 40, "track"] = 1
    assert check_clip(two)[0] == "identity_change"
    crowd = table.copy()
    crowd.loc[crowd.frame == 10, "faces"] = 2
    assert check_clip(crowd)[0] == "multiple_faces"


def test_caps():
    clips = pd.DataFrame({"video": ["a"] * 10 + ["b"] * 10, "reason": [""] * 19 + ["shot_cut"]})
    capped = cap_candidates(clips, CandidateOptions(target=1, oversample=8, per_video_cap=5))
    assert capped.kept.sum() == 8 and capped[capped.kept].groupby("video").size().max() <= 5
    assert capped.loc[19, "reason"] == "shot_cut" and not capped.loc[19, "kept"]


def test_expression_balance_follows_the_target_as_far_as_clips_allow():
    rng = np.random.default_rng(0)
    predicted = rng.choice(labels.EXPRESSIONS, size=500, p=[.02, .02, .06, .4, .3, .1, .1])
    probabilities = np.full((500, 7), 0.05)
    probabilities[np.arange(500), [labels.EXPRESSIONS.index(p) for p in predicted]] = 0.7
    clips = pd.DataFrame(probabilities, columns=list(labels.EXPRESSIONS))
    result = balance_expressions(clips, options=CandidateOptions(target=70, keep=2.0))
    kept = result[result.kept].predicted.value_counts()
    assert kept.sum() == 140
    assert kept["angry"] == (predicted == "angry").sum()  # scarce classes keep all they have
    assert abs(kept["happy"] - kept["sad"]) <= 1 and kept["happy"] > 20  # the rest share evenly
    strict = balance_expressions(clips, options=CandidateOptions(target=70, min_confidence=0.9))
    assert (strict.reason == "expression confidence").all() and not strict.kept.any()
