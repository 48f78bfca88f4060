import subprocess
import sys

import pytest

from dfer.data.check import check_dataset
from tests.conftest import make_truncated_mp4, make_video, run_cli
from tests.data.test_dfew import build_dfew
from tests.data.test_ferv39k import build_ferv39k


def plant_dfew_faults(root):
    """Five kinds of fault, one each; returns substrings the report must contain."""
    import shutil

    (root / "Clip" / "clip_224x224" / "00002" / "00002_00002.jpg").write_bytes(b"not a jpeg")
    shutil.rmtree(root / "Clip" / "clip_224x224" / "00004")
    for path in (root / "Clip" / "clip_224x224" / "00005").iterdir():
        path.unlink()
    test3 = root / "EmoLabel_DataSplit" / "test(single-labeled)" / "set_3.csv"
    test3.write_text("video_name,label\n00003,0\n")
    train1 = root / "EmoLabel_DataSplit" / "train(single-labeled)" / "set_1.csv"
    train1.write_text(train1.read_text() + "1,1\n")
    return [
        "00002_00002.jpg: unreadable image",
        "00004: frame folder of clip 00004 not found",
        "00005: frame folder of clip 00005 is empty",
        "set_3.csv, row 2: DFEW label '0' out of range",
        "set_1.csv, row 6: clip 00001 is in both train and test of fold 1",
    ]


def test_clean_copies_have_no_problems(tmp_path):
    build_dfew(tmp_path / "dfew")
    build_ferv39k(tmp_path / "ferv")
    assert check_dataset(tmp_path / "dfew", progress=False).ok
    report = check_dataset(tmp_path / "ferv", progress=False)
    assert report.ok and report.format == "ferv39k" and report.images_checked == 2 * 6 * 10


def test_planted_dfew_faults_are_all_listed(tmp_path):
    build_dfew(tmp_path)
    expected = plant_dfew_faults(tmp_path)
    report = check_dataset(tmp_path, progress=False)
    text = "\n".join(str(p) for p in report.problems)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} missing from:\n{text}"
    assert len(report.problems) == len(expected)


def test_ends_mode_decodes_only_first_and_last(tmp_path):
    build_ferv39k(tmp_path)
    assert check_dataset(tmp_path, images="ends", progress=False).images_checked == 2 * 6 * 2


def test_cli_strict_exit_status(tmp_path):
    build_dfew(tmp_path)
    command = [sys.executable, "-m", "dfer.cli", "data", "check", str(tmp_path), "--strict"]
    clean = subprocess.run(command, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr
    assert "no problems" in clean.stdout
    plant_dfew_faults(tmp_path)
    lenient = subprocess.run(command[:-1], capture_output=True, text=True)
    strict = subprocess.run(command, capture_output=True, text=True)
    assert lenient.returncode == 0 and strict.returncode == 1
    assert "5 problem(s)" in strict.stdout and "set_3.csv, row 2" in strict.stdout


def test_a_truncated_manifest_video_and_an_empty_manifest_are_problems(tmp_path):
    make_truncated_mp4(tmp_path / "cut.mp4")
    make_video(tmp_path / "whole.mp4")
    (tmp_path / "manifest.csv").write_text("path,label\ncut.mp4,happy\nwhole.mp4,sad\n")
    report = check_dataset(tmp_path / "manifest.csv", progress=False)
    assert [str(p) for p in report.problems] == [f"{tmp_path / 'cut.mp4'}: truncated: decoded 7 of the 27 frames "
                                                  "the container declares"]
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "data", "check", str(tmp_path / "manifest.csv"),
                             "--strict", "--images", "all"], capture_output=True, text=True)
    assert result.returncode == 1 and "truncated" in result.stdout
    assert check_dataset(tmp_path / "manifest.csv", images="none", progress=False).ok  # not decoding: not looked at
    (tmp_path / "empty.csv").write_text("path,label\n")
    empty = check_dataset(tmp_path / "empty.csv", progress=False)
    assert [p.message for p in empty.problems] == ["no clips: the dataset lists none"]


@pytest.mark.parametrize("format, clip", [("afew", "Train/*/*.avi"), ("caer", "validation/*/*.avi"),
                                          ("mafw", "data/clips/*.mp4")])
def test_cli_synth_then_check_then_a_broken_video(tmp_path, format, clip):
    root = tmp_path / format
    made = run_cli("synth", "--format", format, "--out", root, "--clips", 10, "--size", 32)
    assert made.returncode == 0, made.stderr
    checked = run_cli("data", "check", root, "--format", format, "--strict", "--images", "ends")
    assert checked.returncode == 0 and "10 clips readable" in checked.stdout and "no problems" in checked.stdout
    broken = sorted(root.glob(clip))[0]
    broken.write_bytes(b"not a video")
    checked = run_cli("data", "check", root, "--strict")
    assert checked.returncode == 1 and f"- {broken}: cannot read as a video" in checked.stdout
    assert "1 problem(s)" in checked.stdout and f"({format})" in checked.stdout
