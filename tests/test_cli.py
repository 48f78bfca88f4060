"""The ``dfer`` command end to end on small synthetic data."""

import subprocess
import sys

from dfer.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "dfer.cli", *map(str, args)], capture_output=True, text=True)


def test_synth_stats_pack(tmp_path):
    root = tmp_path / "ferv"
    result = run("synth", "--format", "ferv39k", "--out", root, "--clips", 30, "--size", 48, "--seed", 1)
    assert result.returncode == 0, result.stderr
    result = run("data", "stats", root, "--setup", "WIS", "--out", tmp_path / "stats")
    assert result.returncode == 0, result.stderr
    assert "classes:" in result.stdout and (tmp_path / "stats" / "stats.png").is_file()
    result = run("data", "pack", root, "--out", tmp_path / "store", "--size", 32, "--scene-size", "32x48")
    assert result.returncode == 0, result.stderr
    assert "packed 30 clips" in result.stdout
    result = run("data", "stats", tmp_path / "store")
    assert result.returncode == 0 and "30 clips (packed)" in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert main(["data", "stats", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("dfer: error:") and "no such file or folder" in error
    (tmp_path / "m.csv").write_text("path,label\nx,7\n")
    result = run("data", "stats", tmp_path / "m.csv")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "m.csv, row 2" in result.stderr


def test_a_bug_is_reported_as_a_bug_not_as_bad_input(tmp_path, monkeypatch, capsys):
    import tempfile

    from dfer.cli import data
    from dfer.errors import InputError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(args):
        raise ValueError("array is read-only")  # what numpy says when dfer misuses an array

    monkeypatch.setattr(data, "_stats", broken)
    assert main(["data", "stats", str(tmp_path)]) == 3
    error = capsys.readouterr().err
    assert "internal error (a bug in dfer, not in your input): ValueError: array is read-only" in error
    saved = list(tmp_path.glob("dfer-traceback-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in error and "Traceback" in saved[0].read_text()

    def refused(args):
        raise InputError("--size must be positive, got -48")

    monkeypatch.setattr(data, "_stats", refused)
    assert main(["data", "stats", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "dfer: error: --size must be positive, got -48\n"


def test_every_command_has_help():
    for command in (["synth"], ["data", "stats"], ["data", "check"], ["data", "tim"], ["data", "pack"], ["demo"],
                    ["preprocess"], ["predict"], ["assets", "fetch"], ["assets", "list"], ["train"], ["evaluate"],
                    ["models", "list"], ["models", "info"], ["checkpoint", "upgrade"], ["build", "candidates"],
                    ["annotate", "plan"], ["annotate", "votes"], ["annotate", "intervals"], ["annotate", "tokens"],
                    ["annotate", "serve"], ["annotate", "long"], ["annotate", "marks"], ["annotate", "media"],
                    ["spot", "train"],
                    ["spot", "evaluate"], ["spot", "predict"], ["spot", "features"], ["export"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: dfer" in result.stdout


def test_demo_runs_predict_on_the_sample_video(tmp_path, monkeypatch):
    """The main job, with the assets provided by hand (as a user without network would)."""
    import shutil

    from tests.conftest import SHARED

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(SHARED / "models" / "emotion_model.hdf5", home)
    shutil.copy(SHARED / "videos" / "WolfgangLanger_Pexels.mp4", home)
    monkeypatch.setenv("DFER_HOME", str(home))
    result = run("demo", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    assert "emotion_model: cached" in result.stdout and "report:" in result.stdout
    assert "track 0: sad" in result.stdout or "track 0: fear" in result.stdout
    assert (tmp_path / "demo" / "predict" / "report.html").is_file()


def test_no_progress_bars_in_logs(tmp_path):
    """stderr is a pipe here, as in a log file: long commands draw no bars into it."""
    for command in (["synth", "--format", "ferv39k", "--out", tmp_path / "s", "--clips", 8, "--size", 32],
                    ["data", "check", tmp_path / "s"]):
        result = run(*command)
        assert result.returncode == 0, result.stderr
        assert "%|" not in result.stderr and "it/s" not in result.stderr, result.stderr
