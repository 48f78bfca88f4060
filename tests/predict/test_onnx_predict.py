"""``dfer export`` then ``dfer predict --model model.onnx``: the checkpoint's windows, without torch."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.cli import main
from dfer.predict import predict

from tests.conftest import SHARED, make_checkpoint, make_video

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    """The first 96 frames (4 s) of the crying and laughing actress."""
    import av

    frames = []
    with av.open(str(SHARED / "videos" / "WolfgangLanger_Pexels.mp4")) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == 96:
                break
    return make_video(tmp_path_factory.mktemp("video") / "actress.mp4", frames, fps=24)


def test_an_exported_model_predicts_the_checkpoints_windows_without_torch(tmp_path, short_video, capsys):
    checkpoint = make_checkpoint(tmp_path, "ferv39k_2d")
    assert main(["export", str(checkpoint), "--out", str(tmp_path / "model.onnx")]) == 0
    printed = capsys.readouterr().out
    assert f"model card: {tmp_path / 'model.MODEL_CARD.md'}" in printed and (tmp_path / "model.MODEL_CARD.md").is_file()
    assert float(re.search(r"max \|Δ\| of the probabilities (\S+) ", printed).group(1)) <= 1e-4

    script = ("import sys\nfrom dfer.cli import main\n"
              f"status = main(['predict', {str(short_video)!r}, '--out', {str(tmp_path / 'out')!r}, "
              f"'--model', {str(tmp_path / 'model.onnx')!r}, '--quiet'])\n"
              "print('status', status, 'torch' in sys.modules, 'torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "status 0 False False"

    expected = predict(short_video, checkpoint)  # the checkpoint itself, with torch
    windows = pd.read_csv(tmp_path / "out" / "windows.csv")
    keys = ["track", "start_frame", "end_frame"]
    assert len(windows) == len(expected.windows) > 20
    assert windows[keys].values.tolist() == expected.windows[keys].values.tolist()
    names = list(labels.EXPRESSIONS)
    assert np.abs(windows[names].values - expected.windows[names].values).max() <= 1e-4
    frames = pd.read_parquet(tmp_path / "out" / "frames.parquet")
    assert np.abs(frames[names].values - expected.frames[names].values).max() <= 1e-4


def test_an_onnx_file_without_dfer_metadata_is_one_clear_line(tmp_path):
    from tests.engine.test_onnx_model import identity_onnx

    identity_onnx(tmp_path / "plain.onnx")
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "predict", str(SHARED / "videos" / "single_face.mp4"),
                             "--out", str(tmp_path / "out"), "--model", str(tmp_path / "plain.onnx")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("dfer: error: ")
    assert "plain.onnx: an ONNX model without dfer's metadata" in result.stderr
