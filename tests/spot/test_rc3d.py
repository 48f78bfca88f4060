"""R-C3D (frozen trunk): offsets, RoI pooling, targets, a training step, proposals."""

import numpy as np
import torch

from dfer.spot.rc3d import RC3D, decode, encode


def test_encode_and_decode_are_inverse():
    anchors = np.array([[2.0, 6.0], [10.0, 11.0]])
    segments = np.array([[3.0, 9.0], [9.5, 12.5]])
    offsets = encode(anchors, segments)
    assert np.allclose(offsets[0], [(6 - 4) / 4, np.log(6 / 4)])
    assert np.allclose(decode(torch.tensor(anchors), torch.tensor(offsets)).numpy(), segments, atol=1e-6)


def test_roi_pooling_takes_the_maximum_per_bin():
    model = RC3D(2, positions=12, lengths=(2,), hidden=3, rois=4, bins=2)
    conv = torch.arange(12, dtype=torch.float32).repeat(3, 1)  # value = position
    pooled = model._pool(conv, torch.tensor([[2.2, 5.8], [0.0, 12.0]]))
    assert pooled.shape == (2, 3, 2)
    assert pooled[0, 0].tolist() == [3.0, 5.0] and pooled[1, 0].tolist() == [5.0, 11.0]  # spans 2..5 and 0..11


def test_targets_mark_the_best_anchor_positive():
    model = RC3D(4, positions=20, lengths=(2, 4), hidden=8)
    goal = model.targets(np.array([[0.3, 0.5]]))  # positions [6, 10)
    anchors = model.anchors.numpy()
    best = np.flatnonzero(goal["label"].numpy() == 1)
    # anchors are centred on positions (i + 0.5): [5.5, 9.5] and [6.5, 10.5] overlap [6, 10] by 3.5 / 4.5
    assert sorted(map(tuple, anchors[best].tolist())) == [(5.5, 9.5), (6.5, 10.5)]
    assert goal["label"][0] == 0 and np.allclose(goal["segments"].numpy(), [[6, 10]])


def test_a_training_step_and_proposals():
    torch.manual_seed(0)
    model = RC3D(8, positions=16, lengths=(2, 4, 8), hidden=16, rois=10)
    goal = model.targets(np.array([[0.25, 0.5]]))
    outputs = model(torch.randn(2, 8, 16))
    assert outputs["rois"].shape == (2, 10, 2) and outputs["roi_logit"].shape == (2, 10)
    batch = {"label": torch.stack([goal["label"]] * 2), "offsets": torch.stack([goal["offsets"]] * 2),
             "segments": [goal["segments"]] * 2}
    loss = model.loss(outputs, batch)
    loss["loss"].backward()
    assert torch.isfinite(loss["loss"]) and model.trunk_conv[0].weight.grad is not None
    found = model.propose(outputs, 0, top=5)
    assert 0 < len(found) <= 5 and (found[:, 0] < found[:, 1]).all()
