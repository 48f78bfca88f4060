"""BSN: boundary candidates, boundary-sensitive features, targets, loss, proposals."""

import numpy as np
import torch

from dfer.spot.bsn import BSN


def model(**options):
    torch.manual_seed(0)
    return BSN(16, positions=20, hidden=16, pem_hidden=8, **options)


def test_candidates_pair_start_and_end_peaks():
    bsn = model(max_duration=10)
    start, end = np.full(20, 0.1), np.full(20, 0.1)
    start[[3, 12]], end[[7, 18]] = 0.9, 0.8
    pairs = bsn.candidates(start, end)
    assert {tuple(p) for p in pairs} == {(3, 7), (12, 18)}  # (3, 18) is longer than 10 positions


def test_boundary_features_sample_the_actionness_curve():
    bsn = model()
    action = np.arange(20) + 0.5  # actionness equal to the position of each centre
    features = bsn.boundary_features(action, np.array([[5, 14]]))  # positions [5, 15): length 10, margin 2
    start, inside, end = features[0, :8], features[0, 8:24], features[0, 24:]
    assert np.allclose(start, 3 + (np.arange(8) + 0.5) * 4 / 8)
    assert np.allclose(inside, 5 + (np.arange(16) + 0.5) * 10 / 16)
    assert np.allclose(end, 13 + (np.arange(8) + 0.5) * 4 / 8)


def test_targets_and_a_training_step():
    bsn = model()
    goal = bsn.targets(np.array([[0.25, 0.5]]))  # positions 5..9
    assert goal["action"].numpy().tolist() == [0.0] * 5 + [1.0] * 5 + [0.0] * 10
    outputs = bsn(torch.randn(2, 16, 20))
    batch = {key: torch.stack([goal[key]] * 2) if key != "segments" else [goal[key]] * 2 for key in goal}
    loss = bsn.loss(outputs, batch, torch.Generator().manual_seed(0))
    loss["loss"].backward()
    assert torch.isfinite(loss["loss"]) and loss["pem"] >= 0
    found = bsn.propose(outputs, 0, top=5)
    assert found.shape[1] == 3 and len(found) <= 5 and (found[:, 0] < found[:, 1]).all()
    assert (found[:-1, 2] >= found[1:, 2]).all()
