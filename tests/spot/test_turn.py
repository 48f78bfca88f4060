"""TURN: anchor clips with context, unit-regression targets, loss, proposals."""

import numpy as np
import torch

from dfer.spot.turn import TURN


def test_clip_features_are_context_clip_context_means():
    turn = TURN(1, positions=10, lengths=(2,), context=2, hidden=4)
    units = torch.arange(10, dtype=torch.float32)[None, None, :]  # unit i has feature i
    features = turn.clip_features(units)[0]
    anchors = turn.anchors.tolist()
    assert anchors[:3] == [[0, 2], [1, 3], [2, 4]]
    assert features[2].tolist() == [0.5, 2.5, 4.5]  # before: units 0-1, clip: 2-3, after: 4-5
    assert features[0].tolist() == [0.0, 0.5, 2.5]  # no units before the video: zeros


def test_targets_label_and_offsets():
    turn = TURN(4, positions=20, lengths=(4,), context=1, hidden=4)
    goal = turn.targets(np.array([[0.25, 0.5]]))  # units [5, 10)
    anchors = turn.anchors.numpy()
    index = {tuple(a): i for i, a in enumerate(anchors)}
    assert goal["label"][index[(4, 8)]] == 1 and goal["offsets"][index[(4, 8)]].tolist() == [1.0, 2.0]  # IoU 3/6
    assert goal["label"][index[(14, 18)]] == 0  # no overlap: negative
    assert goal["label"][index[(8, 12)]] == -1  # IoU 2/7: neither


def test_a_training_step_and_proposals():
    torch.manual_seed(0)
    turn = TURN(8, positions=16, hidden=16)
    goal = turn.targets(np.array([[0.2, 0.5]]))
    outputs = turn(torch.randn(2, 8, 16))
    loss = turn.loss(outputs, {key: torch.stack([value] * 2) for key, value in goal.items()})
    loss["loss"].backward()
    assert torch.isfinite(loss["loss"])
    found = turn.propose(outputs, 1, top=7)
    assert len(found) == 7 and (found[:, 0] < found[:, 1]).all() and (found[:, :2] >= 0).all() and (found[:, :2] <= 1).all()
