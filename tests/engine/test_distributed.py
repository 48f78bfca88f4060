"""Data-parallel training: 2 CPU processes (torchrun, gloo) end with the weights of 1 process."""

import subprocess
import sys

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
import yaml

from dfer.engine import checkpoint
from dfer.engine.distributed import Distributed
from dfer.models import build_model
from dfer.models.losses import DFERLoss, ec_stfl


def global_batch():
    generator = torch.Generator().manual_seed(5)
    return torch.randn(8, 6, generator=generator, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 1, 2, 0])


def ec_stfl_on_a_rank(rank: int, world: int, init: str, results) -> None:
    torch_dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        features, labels = global_batch()
        local = features[rank::world].clone().requires_grad_()  # this rank's share, as DistributedSampler deals it
        loss = DFERLoss("ec_stfl", gather=Distributed(rank=rank, world=world).gather_batch)
        value = loss({"logits": torch.zeros(len(local), 7, dtype=local.dtype), "features": local},
                     labels[rank::world])["aux"]
        value.backward()
        results[rank] = (value.item(), local.grad.clone())
    finally:
        torch_dist.destroy_process_group()


def test_ec_stfl_is_a_statistic_of_the_global_batch_across_processes(tmp_path):
    features, labels = global_batch()
    whole = features.clone().requires_grad_()
    expected = ec_stfl(whole, labels)
    expected.backward()
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(ec_stfl_on_a_rank, args=(2, f"file://{tmp_path / 'rendezvous'}", results), nprocs=2)
        results = dict(results)
    for rank in (0, 1):
        value, grad = results[rank]
        assert value == pytest.approx(expected.item(), rel=1e-12)  # every rank: the loss of all 8 clips
        # each rank's features get the gradient of the sum of both ranks' (equal) losses; DDP's average
        # over the ranks then gives the single process's gradient
        torch.testing.assert_close(grad, 2 * whole.grad[rank::2])


@pytest.mark.parametrize("kind", ["ec_stfl", "center"])
def test_two_gloo_processes_match_one(synthetic, tmp_path, kind):
    """A VGG-11 frame model without batch norm (whose statistics are per process) and without dropout,
    one SGD step: the two processes' averaged gradients equal the one process's gradient of the same
    global batch, batch statistics (EC-STFL) included, and both move the center-loss centres with the
    global batch.

    Compared as weight updates, to within 2e-3 of the largest update of each tensor: the processes'
    batches of 4 sum in another order than one batch of 8, which left the updates 0.8e-4 (EC-STFL)
    and 2.1e-4 (center loss) apart under every ATEN_CPU_CAPABILITY (default, avx2, avx512). A gather
    that returned each process's own batch gave 1.13 (EC-STFL) and centres 0.59 apart. One step only:
    the centres start at the origin and then pull the features towards themselves, where x − c
    cancels, so a second and third step grew the same float32 reordering to 0.7% and 2% under
    ``default``.
    """
    config = {
        "data": {"format": "ferv39k", "root": str(synthetic("ferv39k", clips=80)), "size": [32, 32],
                 "sampler": {"name": "uniform", "options": {"k": 4}}, "workers": 0},
        "model": {"name": "vgg11", "options": {"num_frames": 4, "dropout": 0.0, "batch_norm": False}},
        "train": {"batch_size": 8, "epochs": 1, "max_steps_per_epoch": 1, "amp": False, "progress": False},
        "optim": {"name": "sgd", "lr": 0.01},
        "loss": {"kind": kind},
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

    one_state = checkpoint.load(tmp_path / "one" / "checkpoints" / "last.pt")
    two_state = checkpoint.load(tmp_path / "two" / "checkpoints" / "last.pt")
    one, two = one_state["model"], two_state["model"]
    torch.manual_seed(0)  # the runs' seed: the same initial weights
    initial = build_model("vgg11", num_classes=7, num_frames=4, dropout=0.0, batch_norm=False).state_dict()
    for key in one:
        update = one[key] - initial[key]
        assert update.abs().max() > 0, f"{key} did not move"
        torch.testing.assert_close(two[key] - initial[key], update, rtol=0, atol=2e-3 * float(update.abs().max()),
                                   msg=lambda message: f"{key}: {message}")
    for key in one_state["loss"]:  # the centres, which start at the origin
        centres = one_state["loss"][key]
        torch.testing.assert_close(two_state["loss"][key], centres, rtol=0, atol=2e-3 * float(centres.abs().max()),
                                   msg=lambda message: f"{key}: {message}")
