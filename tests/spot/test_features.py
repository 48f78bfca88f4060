"""Snippet features from a dfer checkpoint; BMN-style rescaling."""

import json

import numpy as np
import pytest

from dfer.data.synth_long import write_long
from dfer.spot.features import extract_features, load_features, rescale, snippet_starts

from tests.conftest import make_checkpoint

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


def test_snippet_starts():
    assert snippet_starts(40).tolist() == [0, 16, 32]
    assert snippet_starts(40, stride=8).tolist() == [0, 8, 16, 24, 32]
    with pytest.raises(ValueError):
        snippet_starts(0)


def test_rescale_keeps_constants_and_averages_ramps():
    constant = np.full((37, 3), 2.5)
    assert np.allclose(rescale(constant, 100), 2.5)
    ramp = np.arange(10, dtype=float)[:, None]  # value i at position i + 0.5
    scaled = rescale(ramp, 5, samples=3)  # bins of 2 snippets: samples at 1/3, 1, 5/3 → mean position 1 → value 0.5
    assert np.allclose(scaled[1:-1, 0], [2.5, 4.5, 6.5])
    assert scaled.shape == (5, 1) and np.isclose(scaled[0, 0], (0 + 0.5 + 7 / 6) / 3)
    up = rescale(np.array([[0.0], [1.0]]), 4, samples=1)  # upsampling interpolates
    assert np.allclose(up[:, 0], [0.0, 0.25, 0.75, 1.0])


@pytest.fixture(scope="module")
def long_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    write_long(root, 2, seed=1, size=32, progress=False, seconds=(6.0, 8.0))
    return root


def test_features_per_video_and_resume(long_root, tmp_path):
    checkpoint = make_checkpoint(tmp_path, "ferv39k_2d_lstm")
    out = tmp_path / "features"
    table = extract_features(long_root / "faces", out, checkpoint, stride=8, progress=False)
    for video, rows in table.groupby("video"):
        features = load_features(out, video)
        frames = rows.frames.iloc[0]
        assert features.shape[0] == len(rows) == len(snippet_starts(frames, stride=8)) and np.isfinite(features).all()
    first = load_features(out, "long_001")
    assert not np.allclose(first[0], first[len(first) // 2])  # the face changes along the video
    stamp = (out / "long_001.npy").stat().st_mtime_ns
    extract_features(long_root / "faces", out, checkpoint, stride=8, progress=False)
    assert (out / "long_001.npy").stat().st_mtime_ns == stamp  # finished videos are skipped
    assert json.loads((out / "features.json").read_text())["dim"] == first.shape[1]
    with pytest.raises(ValueError, match="other settings"):
        extract_features(long_root / "faces", out, checkpoint, stride=16, progress=False)


def test_two_stream_extractors_need_scenes(long_root, tmp_path):
    checkpoint = make_checkpoint(tmp_path, "ferv39k_two_stream")
    with pytest.raises(ValueError, match="two-stream model"):
        extract_features(long_root / "faces", tmp_path / "f", checkpoint, progress=False)


def test_two_stream_extractors_read_the_scene_frames_too(long_root, tmp_path):
    import shutil

    scenes = tmp_path / "scenes"
    for video in ("long_001", "long_002"):  # any images serve as scene frames for the plumbing
        shutil.copytree(long_root / "faces" / video, scenes / video)
    checkpoint = make_checkpoint(tmp_path, "ferv39k_two_stream")
    table = extract_features(long_root / "faces", tmp_path / "f2", checkpoint, stride=16, scenes_root=scenes,
                             progress=False)
    features = load_features(tmp_path / "f2", "long_001")
    assert features.shape[0] == (table.video == "long_001").sum() and np.isfinite(features).all()
    shutil.rmtree(scenes / "long_002")
    (scenes / "long_002").mkdir()
    with pytest.raises(Exception, match="0 scene frames"):
        extract_features(long_root / "faces", tmp_path / "f3", checkpoint, scenes_root=scenes, progress=False)


def test_tsn_extractors_take_segments_of_each_snippet(long_root, tmp_path):
    checkpoint = make_checkpoint(tmp_path, "ferv39k_tsn")  # 3 segments × 3 frames out of each 16-frame snippet
    table = extract_features(long_root / "faces", tmp_path / "features", checkpoint, progress=False)
    features = load_features(tmp_path / "features", "long_001")
    rows = table[table.video == "long_001"]
    assert features.shape == (len(rows), 1024) and np.isfinite(features).all()  # [RGB 512, flow 512]
    assert not np.allclose(features[0], features[len(features) // 2])
