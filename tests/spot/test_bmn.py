"""BMN: boundary-matching sampling, targets, loss, Soft-NMS and proposals."""

import numpy as np
import pytest
import torch

from dfer.spot.bmn import BMN, bmn_loss, proposals, sampling_weights, soft_nms, targets


def test_sampling_weights_interpolate_the_extended_proposal():
    weights = sampling_weights(20, 20, samples=4, per_bin=3, boundary_ratio=0.5)
    ramp = np.arange(20, dtype=float)  # a feature equal to its position samples the positions themselves
    sampled = np.einsum("i,indt->ndt", ramp, weights)
    d, t = 3, 8  # positions [8, 12): extended by 2 on each side → [6, 14], 12 points, 3 per sample
    points = np.linspace(6, 14, 12).reshape(4, 3).mean(axis=1)
    assert np.allclose(sampled[:, d, t], points)
    assert np.allclose(weights[:, :, d, t].sum(axis=0), 1.0)
    assert weights[:, :, 5, 15].sum() == 0  # runs past the end: no samples


def test_targets_by_hand():
    iou, start, end = targets(np.array([[0.25, 0.5]]), positions=8)
    # proposal (d=1, t=2) covers [2/8, 4/8] exactly
    assert iou[1, 2] == pytest.approx(1.0) and iou[0, 2] == pytest.approx(0.5) and iou[7, 0] == pytest.approx(0.25)
    # a boundary's region spans 1.5 positions each side: anchors 1–3 lie inside the start's, 3–5 the end's
    assert start.tolist() == [0, 1, 1, 1, 0, 0, 0, 0] and end.tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert np.all(iou[np.add.outer(np.arange(8), np.arange(8)) >= 8] == 0)


def test_forward_shapes_and_loss_gradients():
    torch.manual_seed(0)
    model = BMN(32, positions=16, durations=10, samples=8, hidden_1d=16, hidden_2d=8, hidden_3d=16)
    outputs = model(torch.randn(3, 32, 16))
    assert outputs["confidence"].shape == (3, 2, 10, 16) and outputs["start"].shape == (3, 16)
    iou, start, end = (torch.from_numpy(a)[None].repeat(3, *[1] * a.ndim) for a in targets(np.array([[0.2, 0.6]]), 16, 10))
    loss = bmn_loss(outputs, iou, start, end, torch.Generator().manual_seed(0))
    loss["loss"].backward()
    assert torch.isfinite(loss["loss"]) and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_soft_nms_decays_overlaps_and_keeps_distinct_ones():
    rows = np.array([[0.1, 0.3, 0.9], [0.11, 0.31, 0.8], [0.6, 0.8, 0.7]])
    kept = soft_nms(rows, alpha=0.4, low=0.5, high=0.9)
    assert kept[0].tolist() == [0.1, 0.3, 0.9] and kept[1].tolist() == [0.6, 0.8, 0.7]
    iou = 0.19 / 0.21  # the near duplicate's IoU with the best is above 0.5 + 0.4 × 0.2
    assert kept[2, 2] == pytest.approx(0.8 * np.exp(-iou ** 2 / 0.4))


def test_proposals_follow_the_boundaries():
    positions = 20
    start, end = np.full(positions, 0.05), np.full(positions, 0.05)
    start[5], end[10] = 0.9, 0.9
    confidence = np.full((2, positions, positions), 0.1)
    confidence[:, 4, 5] = 0.95  # (d = 4, t = 5): [5/20, 10/20]
    found = proposals(confidence, start, end, top=10)
    assert found[0, :2].tolist() == [5 / 20, 10 / 20] and len(found) <= 10


@pytest.mark.parametrize("segment", [(0.3, 0.65), (0.05, 0.5), (0.5, 0.95)])
def test_decoding_perfect_outputs_gives_back_the_training_segment(segment):
    """Targets and decoding share one time convention: a confidence map equal to the IoU targets and
    boundary probabilities peaking where the start and end targets are centred decode into the
    very segment they were made from."""
    positions = 20
    iou, start, end = targets(np.array([segment]), positions=positions)
    centre = lambda target: np.flatnonzero(target > 0.5).mean()  # noqa: E731 - the middle of the target region
    bump = lambda k: np.exp(-((np.arange(positions) - k) ** 2))  # noqa: E731
    found = proposals(np.stack([iou, iou]), bump(centre(start)), bump(centre(end)), top=5)
    assert found[0, :2] == pytest.approx(segment)


def test_every_spot_config_builds_its_localizer():
    from pathlib import Path

    from dfer.engine.config import build, read_tree
    from dfer.spot.train import SpotConfig, build_localizer

    configs = sorted((Path(__file__).resolve().parents[2] / "configs" / "spot").glob("*.yaml"))
    assert len(configs) >= 8
    built = {}
    for path in configs:
        config = build(SpotConfig, read_tree(path), "")
        key = (config.localizer, repr(sorted(config.options.items())))
        if key not in built:  # one model per distinct set of options (the paper's T = 100 one is large)
            built[key] = build_localizer(config, 512)
        assert built[key].positions == config.options.get("positions", 100)
