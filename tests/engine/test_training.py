"""The engine end to end on tiny synthetic runs: outputs, resume after a kill, typed errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml

from dfer.engine import checkpoint
from dfer.engine.config import load_config
from dfer.engine.protocols import run

TINY = ["data.format=ferv39k", "data.size=[32, 32]", "data.sampler.options={k: 4}", "data.workers=0",
        "model.name=resnet18_lstm", "model.options={hidden: 32}", "train.batch_size=8", "train.amp=false",
        "train.progress=false", "optim.name=adam", "optim.lr=0.001", "schedule.name=exponential"]


def tiny(root, out, *extra):
    return load_config(None, [*TINY, f"data.root={root}", f"out={out}", *extra])


def test_run_writes_every_output(synthetic, tmp_path):
    config = tiny(synthetic("ferv39k", clips=80), tmp_path, "name=r", "train.epochs=2")
    metrics = run(config)
    directory = tmp_path / "r"
    results = directory / "results"
    for name in ("metrics.json", "predictions.parquet", "predictions.csv", "confusion.csv", "confusion.png",
                 "per_scenario.csv", "per_scene.csv", "tsne.png"):
        assert (results / name).is_file(), name
    saved = json.loads((results / "metrics.json").read_text())
    assert saved["war"] == metrics["war"] and 0 <= saved["uar"] <= 1
    predictions = pd.read_parquet(results / "predictions.parquet")
    splits = pd.read_csv(directory / "splits.csv")
    assert set(predictions["clip_id"]) == set(splits.loc[splits["split"] == "test", "clip_id"])
    assert (predictions["label"] == predictions["prediction"]).mean() == pytest.approx(metrics["war"])
    log = pd.read_csv(directory / "log.csv")
    assert list(log["epoch"]) == [1, 2]
    assert saved["best_epoch"] == int(log.loc[log["val_war"].idxmax(), "epoch"])
    assert any((directory / "tensorboard").iterdir())


def config_file(tmp_path, root, *extra):
    """A YAML config holding the tiny settings, for the command line."""
    from dfer.engine.config import to_dict

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(to_dict(load_config(None, [*TINY, f"data.root={root}", *extra]))))
    return path


def test_killed_and_resumed_run_matches_uninterrupted(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "dfer.cli", "train", str(config_file(tmp_path, root)), "name=k", "train.epochs=3"]
    # both runs in fresh processes: bit-exact weights need the same torch state (threads, flags) in both,
    # which the test process's earlier tests may have changed
    straight = subprocess.run([*command, f"out={tmp_path / 'straight'}"], capture_output=True, text=True, env=env)
    assert straight.returncode == 0, straight.stdout + straight.stderr
    expected = checkpoint.load(tmp_path / "straight" / "k" / "checkpoints" / "last.pt")

    args = [*command, f"out={tmp_path / 'killed'}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    last = tmp_path / "killed" / "k" / "checkpoints" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill -9 once the first epoch's checkpoint is there
        if last.is_file() and checkpoint.load(last)["epoch"] >= 1:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.load(last)["epoch"] < 3, "the run finished before it could be killed"

    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout
    final = checkpoint.load(last)
    assert final["epoch"] == 3
    for key, value in expected["model"].items():
        torch.testing.assert_close(final["model"][key], value, rtol=0, atol=0, msg=key)
    assert final["history"][-1]["val_war"] == expected["history"][-1]["val_war"]
    log = pd.read_csv(tmp_path / "killed" / "k" / "log.csv")
    assert list(log["epoch"]) == [1, 2, 3]


def test_checkpoint_from_another_model_is_refused(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    run(tiny(root, tmp_path, "name=a", "train.epochs=1"))
    weights = tmp_path / "a" / "checkpoints" / "best.pt"
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "evaluate", str(config_file(tmp_path, root)),
                             "model.name=resnet18", "model.options={num_frames: 4}", "--checkpoint", str(weights)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "checkpoint is for model 'resnet18_lstm', not 'resnet18'" in result.stderr


def test_dataset_root_of_another_format(synthetic, tmp_path):
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "train", str(config_file(tmp_path, synthetic("dfew")))],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "the config says data.format=ferv39k, but this looks like dfew" in result.stderr
