"""``dfer preprocess`` end to end on the real fixture videos: faces where a person sees them,
outputs in each layout, bad files in the failures table, resumption after kill -9, Ray."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from dfer.preprocess import options_from, preprocess
from dfer.preprocess.table import NO_FACE

from tests.conftest import SHARED, write_bad_videos

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once

VIDEOS = SHARED / "videos"


@pytest.fixture(scope="module")
def fixtures_run(tmp_path_factory):
    """All five fixture videos, two workers, the default frames layout."""
    out = tmp_path_factory.mktemp("preprocessed")
    summary = preprocess([VIDEOS], out, options_from("frames"), workers=2, progress=False)
    return out, summary


def faces_per_frame(out: Path, key: str) -> pd.Series:
    table = pd.read_parquet(out / "tables" / f"{key}.parquet")
    return table[(table.track != NO_FACE) & table.success].groupby("frame").size().reindex(
        range(table.frame.nunique()), fill_value=0)


def test_every_fixture_is_done(fixtures_run):
    out, summary = fixtures_run
    assert (summary.videos, summary.done, summary.failed) == (5, 5, 0)
    videos = pd.read_csv(out / "videos.csv").set_index("key")
    assert set(videos.index) == {"single_face", "face_noface", "noface_face", "no_face", "WolfgangLanger_Pexels"}
    assert videos.loc["WolfgangLanger_Pexels", "frames"] == 472
    assert json.loads((out / "summary.json").read_text())["done"] == 5
    assert pd.read_csv(out / "failures.csv").empty


def test_no_face_has_no_face_frames(fixtures_run):
    assert faces_per_frame(fixtures_run[0], "no_face").sum() == 0


def test_faces_stop_at_the_cut_and_start_at_the_cut(fixtures_run):
    out = fixtures_run[0]
    before_cut = faces_per_frame(out, "face_noface")
    assert (before_cut.iloc[:65] == 1).all() and (before_cut.iloc[80:] == 0).all()
    after_cut = faces_per_frame(out, "noface_face")
    assert (after_cut.iloc[:90] == 0).all() and (after_cut.iloc[105:168] == 1).all()
    assert after_cut.iloc[168] == 0  # the video's last frame is black
    for key, near in (("face_noface", 72), ("noface_face", 96)):
        table = pd.read_parquet(out / "tables" / f"{key}.parquet").drop_duplicates("frame")
        cuts = table[table.cut].frame.tolist()
        assert any(abs(frame - near) <= 3 for frame in cuts), (key, cuts)


@pytest.mark.parametrize("key", ["single_face", "WolfgangLanger_Pexels"])
def test_one_track_covers_nearly_every_frame(fixtures_run, key):
    out = fixtures_run[0]
    table = pd.read_parquet(out / "tables" / f"{key}.parquet")
    faces = table[(table.track != NO_FACE) & table.success]
    assert faces.track.nunique() == 1
    assert faces.frame.nunique() >= 0.98 * table.frame.nunique()


def test_outputs_match_the_table(fixtures_run):
    out = fixtures_run[0]
    table = pd.read_parquet(out / "tables" / "single_face.parquet")
    crops = sorted((out / "faces_224" / "single_face" / "track_0").iterdir())
    assert [p.name for p in crops] == [f"{f:06d}.jpg" for f in table.frame]
    assert Image.open(crops[0]).size == (224, 224)
    assert Image.open(out / "faces_112" / "single_face" / "track_0" / "000000.jpg").size == (112, 112)
    assert len(list((out / "scenes_336x504" / "single_face").iterdir())) == 72
    assert Image.open(out / "scenes_112x168" / "single_face" / "000000.jpg").size == (168, 112)
    assert pd.read_parquet(out / "tables").video.nunique() == 5  # all tables read as one
    assert not list(out.rglob("*.partial")) and not any((out / ".staging").iterdir())


def test_a_rerun_skips_finished_videos(fixtures_run):
    out = fixtures_run[0]
    marker = out / ".done" / "single_face.json"
    stamp = marker.stat().st_mtime_ns
    summary = preprocess([VIDEOS], out, options_from("frames"), progress=False)
    assert (summary.skipped, summary.done, summary.failed) == (5, 0, 0)
    assert marker.stat().st_mtime_ns == stamp


def test_other_options_are_refused_for_the_same_folder(fixtures_run):
    with pytest.raises(ValueError, match="other options"):
        preprocess([VIDEOS], fixtures_run[0], options_from("frames", "dfew"), progress=False)


def test_bad_files_are_listed_and_the_rest_completes(tmp_path):
    bad = write_bad_videos(tmp_path / "in")
    (tmp_path / "in" / "single_face.mp4").symlink_to(VIDEOS / "single_face.mp4")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "preprocess", str(tmp_path / "in"), "--out", str(out),
                             "--quiet", "--face-sizes", "112", "--scene-sizes", ""],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    failures = pd.read_csv(out / "failures.csv").set_index("path")
    assert len(failures) == len(bad)
    expected = {"empty": "empty file", "text": "not a readable video", "zero_frames": "has no frames",
                "audio_only": "no video stream", "truncated": "truncated", "too_large": "larger than the limit"}
    for kind, path in bad.items():
        assert expected[kind] in failures.loc[str(path), "reason"], kind
    assert pd.read_csv(out / "videos.csv").key.tolist() == ["single_face"]
    assert "6 failed" in result.stdout and "1 done" in result.stdout
    assert not any(p.name.startswith(("huge", "notes")) for p in out.rglob("*") if p.is_dir())


def test_kill_minus_nine_then_rerun_completes_the_set(tmp_path, fixtures_run):
    inputs = [str(VIDEOS / name) for name in ("single_face.mp4", "face_noface.mov", "noface_face.mov")]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "dfer.cli", "preprocess", *inputs, "--out", str(out), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and not list((out / ".done").glob("*.json")):
        time.sleep(0.2)
    time.sleep(1.0)  # well inside the second video
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.stem for p in (out / ".done").glob("*.json")}
    assert 1 <= len(done_before) < 3
    assert subprocess.run(command, timeout=300).returncode == 0
    assert {p.stem for p in (out / ".done").glob("*.json")} == {"single_face", "face_noface", "noface_face"}
    reference = fixtures_run[0]
    for key in ("single_face", "face_noface", "noface_face"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / "tables" / f"{key}.parquet"),
                                      pd.read_parquet(reference / "tables" / f"{key}.parquet"))
        expected = sorted(p.name for p in (reference / "faces_224" / key).rglob("*.jpg"))
        assert sorted(p.name for p in (out / "faces_224" / key).rglob("*.jpg")) == expected
    assert not list(out.rglob("*.partial")) and not any((out / ".staging").iterdir())


def test_dfew_layout_with_the_dfew_rules_is_read_by_the_dfew_reader(tmp_path):
    from dfer.data.dfew import read_dfew

    manifest = tmp_path / "videos.csv"
    pd.DataFrame({"path": [VIDEOS / "single_face.mp4", VIDEOS / "face_noface.mov"],
                  "clip_id": ["00001", "00002"]}).to_csv(manifest, index=False)
    out = tmp_path / "DFEW"
    summary = preprocess([manifest], out, options_from("dfew", "dfew", face_sizes=(224,), scene_sizes=()),
                         progress=False)
    assert summary.done == 2
    videos = pd.read_csv(out / "videos.csv", dtype={"key": str}).set_index("key")
    assert not videos.loc["00002", "kept"] and "< min_face_fraction" in videos.loc["00002", "dropped_because"]
    assert not (out / "Clip" / "clip_224x224" / "00002").exists()  # face in 43% of frames < 50%
    frames = sorted((out / "Clip" / "clip_224x224" / "00001").iterdir())
    assert frames[0].name == "00001_00001.jpg" and len(frames) == 72
    for fold in range(1, 6):  # the reader wants all five folds' split files
        for part in ("train", "test"):
            split = out / "EmoLabel_DataSplit" / f"{part}(single-labeled)" / f"set_{fold}.csv"
            split.parent.mkdir(parents=True, exist_ok=True)
            split.write_text("video_name,label\n" + ("1,1\n" if (fold, part) == (1, "train") else ""))
    table = read_dfew(out, fold=1)
    assert table.num_frames.tolist() == [72] and table.label.tolist() == [3]  # DFEW 1 = happy


def test_ferv39k_layout_needs_scene_and_label_and_is_read_by_the_ferv39k_reader(tmp_path):
    from dfer.data.ferv39k import read_ferv39k

    with pytest.raises(Exception, match="scene and expression"):
        preprocess([VIDEOS / "single_face.mp4"], tmp_path / "x", options_from("ferv39k"), progress=False)
    manifest = tmp_path / "videos.csv"
    pd.DataFrame({"path": [VIDEOS / "single_face.mp4"], "clip_id": ["0001"], "scene": ["Talkshow"],
                  "label": ["happy"]}).to_csv(manifest, index=False)
    out = tmp_path / "FERV39k"
    preprocess([manifest], out, options_from("ferv39k", face_sizes=(224,), scene_sizes=((336, 504),)),
               progress=False)
    assert len(list((out / "2_ClipsforFaceCrop" / "Talkshow" / "Happy" / "0001").iterdir())) == 72
    setups = out / "4_setups" / "All_scenes"
    setups.mkdir(parents=True)
    (setups / "train_All.csv").write_text("Talkshow/Happy/0001 Happy\n")
    (setups / "test_All.csv").write_text("")
    table = read_ferv39k(out, setup="All", with_scene=True)
    assert table.num_frames.tolist() == [72] and table.scene.tolist() == ["Talkshow"]
    assert len(table.scene_frames.iloc[0]) == 72


def test_ray_backend_runs_the_same_function(tmp_path, fixtures_run):
    """On a one-CPU Ray cluster started on this machine (Ray no longer has a local mode)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        summary = preprocess([VIDEOS / "single_face.mp4"], tmp_path / "out", options_from("frames"),
                             backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert summary.done == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "tables" / "single_face.parquet"),
                                  pd.read_parquet(fixtures_run[0] / "tables" / "single_face.parquet"))


def test_impossible_options_are_refused_up_front(tmp_path):
    with pytest.raises(ValueError, match=r"at least 8 pixels, got face sizes \[0\]"):
        options_from("frames", face_sizes=(0,))
    (tmp_path / "manifest.csv").write_text(f"path,scene,label\n{VIDEOS / 'single_face.mp4'},Office,happy\n")
    with pytest.raises(ValueError, match="scene 'Office' is not one of FERV39k's 22 scenes"):
        preprocess([tmp_path / "manifest.csv"], tmp_path / "out", options_from("ferv39k"), progress=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        preprocess([VIDEOS / "single_face.mp4"], tmp_path / "afile", options_from("frames"), progress=False)
    assert not (tmp_path / "out").exists()


def children(pid: int) -> list[int]:
    """Live worker processes of ``pid`` (from /proc; spawned workers, not multiprocessing's resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in _command_line(stat.parent):
            found.append(int(stat.parent.name))
    return found


def _command_line(folder: Path) -> bytes:
    try:
        return (folder / "cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_two_workers(tmp_path):
    inputs = [str(VIDEOS / name) for name in ("single_face.mp4", "face_noface.mov", "noface_face.mov")]
    command = [sys.executable, "-m", "dfer.cli", "preprocess", *inputs, "--out", str(tmp_path / "out"), "--quiet",
               "--workers", "2", "--face-sizes", "112", "--scene-sizes", ""]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(children(process.pid)) < 2:
        time.sleep(0.1)
    workers = children(process.pid)
    assert len(workers) >= 2, "the worker processes did not start"
    return process, workers


def test_killing_the_parent_ends_its_workers(tmp_path):
    process, workers = start_two_workers(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(worker) for worker in workers):
        time.sleep(0.2)
    assert not any(alive(worker) for worker in workers), "workers outlived their killed parent"


def test_a_killed_worker_does_not_end_the_run(tmp_path):
    process, workers = start_two_workers(tmp_path)
    time.sleep(1.0)  # inside a video
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr  # its video went round again and was done
    assert "Traceback" not in stderr and "3 videos: " in stdout
    assert len(list((tmp_path / "out" / ".done").glob("*.json"))) == 3
    assert (tmp_path / "out" / "videos.csv").is_file() and (tmp_path / "out" / "failures.csv").is_file()
