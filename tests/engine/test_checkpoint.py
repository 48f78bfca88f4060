"""Checkpoints load without running code; a trusted old file is upgraded; RNG state survives a round trip."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from dfer.engine import checkpoint
from dfer.errors import DatasetError

from tests.conftest import CONFIGS, SHARED, make_checkpoint


class Payload:
    """What an attacker puts into a .pt file: unpickling it runs a shell command."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def evil_checkpoint(folder):
    marker = folder / "code-ran"
    path = folder / "evil.pt"
    torch.save({"model": Payload(marker), "config": {}, "model_name": "resnet18"}, path)
    return path, marker


def test_a_checkpoint_with_code_is_refused_and_the_code_never_runs(tmp_path):
    path, marker = evil_checkpoint(tmp_path)
    with pytest.raises(DatasetError, match=r"evil\.pt: refused: it holds posix\.system.*dfer checkpoint upgrade"):
        checkpoint.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_the_commands_refuse_it_in_one_line(synthetic, tmp_path, command):
    path, marker = evil_checkpoint(tmp_path)
    arguments = {"predict": ["predict", SHARED / "videos" / "single_face.mp4", "--model", path, "--out", tmp_path / "o"],
                 "evaluate": ["evaluate", CONFIGS / "ferv39k_2d.yaml", f"data.root={synthetic('ferv39k')}",
                              "data.workers=0", "--checkpoint", path]}[command]
    result = subprocess.run([sys.executable, "-m", "dfer.cli", *map(str, arguments)], capture_output=True, text=True)
    assert not marker.exists(), "loading the checkpoint ran its code"
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}: refused" in result.stderr


def test_rng_state_is_plain_data_and_restores_every_generator(tmp_path):
    np.random.seed(1), random.seed(2), torch.manual_seed(3)
    checkpoint.save(tmp_path / "c.pt", {"model": {}, "rng": checkpoint.rng_state()})
    expected = (np.random.rand(), random.random(), torch.rand(1).item())
    checkpoint.set_rng_state(checkpoint.load(tmp_path / "c.pt")["rng"])  # loaded with weights_only
    assert (np.random.rand(), random.random(), torch.rand(1).item()) == expected


def test_an_old_checkpoint_is_refused_then_upgraded(tmp_path):
    path = make_checkpoint(tmp_path, "ferv39k_2d")
    old = checkpoint.load(path)
    old["rng"] = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    old["history"] = [{"epoch": 1, "val_war": np.float64(0.5)}]
    torch.save(old, tmp_path / "old.pt")  # as dfer wrote checkpoints before the safe format
    with pytest.raises(DatasetError, match="refused: it holds numpy"):
        checkpoint.load(tmp_path / "old.pt")
    from dfer.cli import main

    assert main(["checkpoint", "upgrade", str(tmp_path / "old.pt"), str(tmp_path / "new.pt")]) == 0
    new = checkpoint.load(tmp_path / "new.pt")
    assert new["history"][0]["val_war"] == 0.5 and isinstance(new["history"][0]["val_war"], float)
    assert all(torch.equal(new["model"][key], value) for key, value in old["model"].items())
    np.random.seed(7)
    checkpoint.set_rng_state(new["rng"])
    np.random.set_state(old["rng"]["numpy"])
    reference = np.random.rand(3)
    checkpoint.set_rng_state(new["rng"])
    assert np.array_equal(np.random.rand(3), reference)  # the upgraded NumPy state is the old one
    with pytest.raises(DatasetError, match="already exists"):
        checkpoint.upgrade(tmp_path / "old.pt", tmp_path / "new.pt")


def test_a_copy_is_the_same_file_and_outlives_the_next_save(tmp_path):
    best, last = tmp_path / "best.pt", tmp_path / "last.pt"
    checkpoint.save(best, {"model": {"w": torch.ones(3)}, "epoch": 1}, copies=(last,))
    assert best.read_bytes() == last.read_bytes() and not list(tmp_path.glob(".*partial"))
    checkpoint.save(last, {"model": {"w": torch.zeros(3)}, "epoch": 2})  # a later epoch that did not improve
    assert checkpoint.load(best)["epoch"] == 1 and torch.equal(checkpoint.load(best)["model"]["w"], torch.ones(3))
    assert checkpoint.load(last)["epoch"] == 2
