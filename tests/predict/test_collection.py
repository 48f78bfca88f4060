"""Many videos: worker processes and Ray tasks run the same per-video function and give the same
outputs as one process; a bad file fails alone."""

import shutil

import pandas as pd
import pytest

from dfer.predict.collection import predict_many
from dfer.preprocess import find_jobs

from tests.conftest import SHARED, run_cli

VIDEOS = SHARED / "videos"


@pytest.fixture()
def folder(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(VIDEOS / "single_face.mp4", folder / "a.mp4")
    shutil.copy(VIDEOS / "face_noface.mov", folder / "sub" / "b.mov")
    (folder / "sub" / "broken.mp4").write_text("not a video")
    return folder


def frames_of(out, key):
    return pd.read_parquet(out / key / "frames.parquet")


def test_two_workers_give_what_one_process_gives_and_a_bad_file_fails_alone(dfer_home, folder, tmp_path):
    one, _ = predict_many(find_jobs([folder]), tmp_path / "one", quiet=True, warn=lambda text: None)
    result = run_cli("predict", folder, "--out", tmp_path / "two", "--workers", "2", "--quiet")
    assert result.returncode == 1 and "Traceback" not in result.stderr  # the broken one failed
    assert "broken.mp4: failed" in result.stderr and "2 videos: " in result.stdout
    assert list(pd.read_csv(tmp_path / "two" / "failures.csv").key) == ["broken"]
    assert set(one) == {"a", "b"}
    for key in one:
        pd.testing.assert_frame_equal(frames_of(tmp_path / "two", key), frames_of(tmp_path / "one", key))
    assert "a/report.html" in (tmp_path / "two" / "index.html").read_text()


def test_ray_runs_the_same_function_on_two_videos(dfer_home, folder, tmp_path):
    ray = pytest.importorskip("ray")
    (folder / "sub" / "broken.mp4").unlink()
    jobs = find_jobs([folder])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        done, failures = predict_many(jobs, tmp_path / "ray", backend="ray", workers=2, quiet=True)
    finally:
        ray.shutdown()
    assert not failures and set(done) == {"a", "b"}
    local, _ = predict_many(jobs, tmp_path / "local", quiet=True)
    for key in done:
        pd.testing.assert_frame_equal(frames_of(tmp_path / "ray", key), frames_of(tmp_path / "local", key))
    assert set(pd.read_csv(tmp_path / "ray" / "segments.csv").key) <= {"a", "b"}


def test_several_workers_need_the_model_by_name(dfer_home, folder, tmp_path):
    from dfer.errors import InputError
    from dfer.models.default import DefaultClassifier

    with pytest.raises(InputError, match="each worker loads it"):
        predict_many(find_jobs([folder]), tmp_path / "o", DefaultClassifier(), workers=2)
