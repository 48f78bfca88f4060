"""``dfer predict`` over several inputs: an output folder per input, failures listed, truncated videos
flagged, and outputs swapped in whole."""

import json
import shutil

import pandas as pd
import pytest

from dfer.models.default import DefaultClassifier
from dfer.predict import predict

from tests.conftest import SHARED, run_cli, write_bad_videos

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

VIDEOS = SHARED / "videos"


def test_inputs_with_one_name_get_their_own_folders_and_a_bad_one_does_not_stop_the_rest(dfer_home, tmp_path):
    for folder, video in (("a", "single_face.mp4"), ("b", "no_face.mp4")):
        (tmp_path / "in" / folder).mkdir(parents=True)
        shutil.copy(VIDEOS / video, tmp_path / "in" / folder / "clip.mp4")
    (tmp_path / "in" / "b" / "notes.mp4").write_text("not a video")
    result = run_cli("predict", tmp_path / "in", "--out", tmp_path / "out", "--quiet")  # a folder, searched recursively
    assert result.returncode == 1 and "Traceback" not in result.stderr
    first = json.loads((tmp_path / "out" / "a__clip" / "summary.json").read_text())
    second = json.loads((tmp_path / "out" / "b__clip" / "summary.json").read_text())
    assert first["faces_found"] and not second["faces_found"]  # neither overwrote the other
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert failures.key.tolist() == ["notes"] and "not a readable video" in failures.reason[0]


def test_a_truncated_video_is_flagged_and_exits_1(dfer_home, tmp_path):
    truncated = write_bad_videos(tmp_path / "bad")["truncated"]
    result = run_cli("predict", truncated, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 1 and "truncated: decoded" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["complete"] is False and summary["frames_decoded"] >= 1  # what was decoded is reported
    assert summary["incomplete"].startswith("truncated: decoded frames end at")


@pytest.fixture(scope="module")
def result():
    return predict(VIDEOS / "single_face.mp4", DefaultClassifier(SHARED / "models" / "emotion_model.hdf5"))


def test_a_complete_video_says_so(result):
    summary = result.summary()
    assert summary["complete"] is True and summary["frames_decoded"] == summary["frames"] == 72


def test_saving_again_replaces_the_whole_set_and_a_failed_save_changes_nothing(result, tmp_path, monkeypatch):
    out = tmp_path / "out"
    result.save(out)
    (out / "windows.csv").write_text("from an earlier run with a video model\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from dfer.predict import report

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the run dies half-way through writing

    monkeypatch.setattr(report, "html_report", killed)
    with pytest.raises(KeyboardInterrupt):
        result.save(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old set, whole
    assert not list(tmp_path.glob(".out.*"))
    monkeypatch.undo()
    result.save(out)
    assert not (out / "windows.csv").exists()  # the new set only: no file of the old run is left behind


def test_a_folder_of_other_files_or_a_file_in_the_way_is_refused(result, tmp_path, dfer_home):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("my own work")
    with pytest.raises(ValueError, match="not dfer's outputs"):
        result.save(tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "my own work"
    (tmp_path / "file").write_text("x")
    answer = run_cli("predict", VIDEOS / "single_face.mp4", "--out", tmp_path / "file", "--quiet")
    assert answer.returncode == 2 and "exists and is not a folder" in answer.stderr and "Traceback" not in answer.stderr


def test_a_folder_gives_an_index_all_segments_and_resumes(dfer_home, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(VIDEOS / "single_face.mp4", folder / "a.mp4")
    shutil.copy(VIDEOS / "WolfgangLanger_Pexels.mp4", folder / "sub" / "b.mp4")
    (folder / "sub" / "broken.mp4").write_text("not a video")
    first = run_cli("predict", folder, "--out", tmp_path / "o", "--quiet")
    assert first.returncode == 1  # the broken one failed, the others are done
    index = (tmp_path / "o" / "index.html").read_text()
    assert "a/report.html" in index and "b/report.html" in index and "broken" in index
    segments = pd.read_csv(tmp_path / "o" / "segments.csv")
    assert set(segments.key) == {"a", "b"} and list(segments.columns[:4]) == ["key", "video", "track", "label"]
    assert list(pd.read_csv(tmp_path / "o" / "failures.csv").key) == ["broken"]
    again = run_cli("predict", folder, "--out", tmp_path / "o", "--quiet")
    assert again.stdout.count("finished before") == 2 and again.returncode == 1
    assert pd.read_csv(tmp_path / "o" / "segments.csv").equals(segments)


def test_without_out_each_video_gets_a_folder_beside_it(dfer_home, tmp_path):
    shutil.copy(VIDEOS / "single_face.mp4", tmp_path / "clip.mp4")
    result = run_cli("predict", tmp_path / "clip.mp4", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "clip_dfer" / "report.html").is_file()
