"""Data-parallel training: 2 CPU processes (torchrun, gloo) end with the weights of 1 process."""

import subprocess
import sys

import torch
import yaml

from dfer.engine import checkpoint
from dfer.models import build_model


def test_two_gloo_processes_match_one(synthetic, tmp_path):
    # a VGG-11 frame model without batch norm (whose statistics are per process) and without dropout:
    # the two processes' averaged gradients equal the one process's gradient of the same global batch
    config = {
        "data": {"format": "ferv39k", "root": str(synthetic("ferv39k", clips=80)), "size": [32, 32],
                 "sampler": {"name": "uniform", "options": {"k": 4}}, "workers": 0},
        "model": {"name": "vgg11", "options": {"num_frames": 4, "dropout": 0.0, "batch_norm": False}},
        "train": {"batch_size": 8, "epochs": 1, "max_steps_per_epoch": 3, "amp": False, "progress": False},
        "optim": {"name": "sgd", "lr": 0.01},
        "out": str(tmp_path),
    }
    path = tmp_path / "vgg11.yaml"
    path.write_text(yaml.safe_dump(config))
    single = subprocess.run([sys.executable, "-m", "dfer.cli", "train", str(path), "name=one"],
                            capture_output=True, text=True)
    assert single.returncode == 0, single.stderr
    double = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             "-m", "dfer.cli", "train", str(path), "name=two"], capture_output=True, text=True)
    assert double.returncode == 0, double.stderr
    assert double.stdout.count("epoch 1/1") == 1  # only rank 0 reports

    one = checkpoint.load(tmp_path / "one" / "checkpoints" / "last.pt")["model"]
    two = checkpoint.load(tmp_path / "two" / "checkpoints" / "last.pt")["model"]
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-5, atol=1e-6, msg=key)
    torch.manual_seed(0)  # the runs' seed: the same initial weights, so training must have moved them
    initial = build_model("vgg11", num_classes=7, num_frames=4, dropout=0.0, batch_norm=False).state_dict()
    assert any(not torch.equal(initial[key], one[key]) for key in one)
