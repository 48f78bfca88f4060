import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dfer.data.targets import balanced_class_weights, class_counts, vote_distribution
from dfer.models.losses import LOSSES, CenterLoss, DFERLoss, center_loss, center_update, ec_stfl, softmax_bce

# Four 2-D features, labels [0, 0, 1, 2]: class sizes N = [2, 2, 1, 1].
FEATURES = [[0.0, 0.0], [3.0, 4.0], [6.0, 0.0], [0.0, 8.0]]
LABELS = [0, 0, 1, 2]


def batch(dtype=torch.float64):
    return torch.tensor(FEATURES, dtype=dtype), torch.tensor(LABELS)


def test_ec_stfl_hand_computed():
    # Distances: d01 = 5, d02 = 6, d03 = 8, d12 = 5, d13 = 5, d23 = 10.
    # Intra-class ordered pairs (0,1), (1,0), each d/N_{x_i} = 5/2.
    intra = 5 / 2 + 5 / 2
    # Inter-class ordered pairs (i, j), each d_ij / N_{x_j}.
    inter = (
        6 / 1 + 6 / 2  # (0,2), (2,0)
        + 8 / 1 + 8 / 2  # (0,3), (3,0)
        + 5 / 1 + 5 / 2  # (1,2), (2,1)
        + 5 / 1 + 5 / 2  # (1,3), (3,1)
        + 10 / 1 + 10 / 1  # (2,3), (3,2)
    )
    assert inter == 56
    features, labels = batch()
    assert ec_stfl(features, labels).item() == pytest.approx(intra / inter, rel=1e-9)


def test_ec_stfl_invariant_to_permutation_scale_and_translation():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(12, 5, generator=generator, dtype=torch.float64)
    labels = torch.tensor([0, 1, 2, 0, 1, 1, 3, 0, 2, 2, 1, 0])
    value = ec_stfl(features, labels)
    order = torch.randperm(12, generator=generator)
    assert ec_stfl(features[order], labels[order]).item() == pytest.approx(value.item(), rel=1e-9)
    assert ec_stfl(7.5 * features, labels).item() == pytest.approx(value.item(), rel=1e-9)
    assert ec_stfl(features + 3.0, labels).item() == pytest.approx(value.item(), rel=1e-9)


def test_ec_stfl_single_class_is_zero_with_finite_gradient():
    features = torch.randn(5, 3, requires_grad=True)
    loss = ec_stfl(features, torch.full((5,), 4))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(features.grad, torch.zeros(5, 3))


def test_ec_stfl_all_distinct_classes_is_zero():
    features, _ = batch()
    assert ec_stfl(features, torch.tensor([0, 1, 2, 3])).item() == 0.0


def test_ec_stfl_gradient_finite_when_features_coincide():
    # x0 = x1 (same class) and x2 = x3 (different classes): both zero distances.
    features = torch.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, -1.0], [0.0, -1.0], [3.0, 0.0]], requires_grad=True)
    loss = ec_stfl(features, torch.tensor([0, 0, 1, 2, 1]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(features.grad).all()


def test_ec_stfl_gradient_matches_finite_differences():
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(6, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 0, 2, 1, 1])
    assert torch.autograd.gradcheck(lambda x: ec_stfl(x, labels), (features,))


def test_ec_stfl_half_precision_computed_in_float32():
    features, labels = batch(torch.float16)
    assert ec_stfl(features, labels).dtype == torch.float32


def test_ec_stfl_rejects_bad_shapes():
    with pytest.raises(ValueError, match="features \\(B, D\\)"):
        ec_stfl(torch.zeros(4, 2, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError):
        ec_stfl(torch.zeros(4, 2), torch.zeros(3, dtype=torch.long))


def test_center_loss_hand_computed():
    centers = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    features = torch.tensor([[1.0, 1.0], [3.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 0, 1])
    # ‖x − c‖²: (0,1) → 1, (2,0) → 4, (0,−2) → 4; ½ · 9 / 3.
    assert center_loss(features, labels, centers).item() == pytest.approx(0.5 * (1 + 4 + 4) / 3)


def test_center_update_is_wen_eq_4():
    centers = torch.tensor([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    features = torch.tensor([[1.0, 1.0], [3.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 0, 1])
    # Δc_0 = ((c0 − x0) + (c0 − x1)) / (1 + 2), Δc_1 = (c1 − x2) / 2, Δc_2 = 0 (absent).
    expected = torch.tensor([[(0 - 2) / 3, (-1 + 0) / 3], [0.0, 1.0], [0.0, 0.0]])
    assert torch.allclose(center_update(features, labels, centers), expected)


def test_centres_converge_to_class_means_on_fixed_features():
    """Wen et al.'s rule moves the centres at rate α whatever λ and the network's learning rate; an
    optimizer-driven centre (gradient scaled by λ = 1e-4, lr 0.01) would stay near the origin."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(24, 16, generator=generator) * 3 + 10
    labels = torch.arange(24) % 3
    means = torch.stack([features[labels == k].mean(0) for k in range(3)])
    loss = DFERLoss("center", num_classes=3, feature_dim=16)
    assert loss.center.alpha == 0.5 and not list(loss.parameters())  # the centres are not optimised
    optimizer = torch.optim.SGD([features.requires_grad_()], lr=0.0)  # fixed features
    for _ in range(40):
        result = loss(outputs_for(features), labels)
        optimizer.zero_grad()
        result["loss"].backward()
        optimizer.step()
    assert torch.allclose(loss.center.centers, means, atol=1e-3)
    assert loss.state_dict()["center.centers"].shape == (3, 16)  # saved with the run


def test_centres_move_only_in_training_mode_and_feature_gradient_is_lambda_scaled():
    features = torch.tensor([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 2.0]], requires_grad=True)
    labels = torch.tensor([0, 0, 1])
    loss = DFERLoss("center", num_classes=3, feature_dim=3).eval()
    result = loss(outputs_for(features), labels)
    assert result["aux"].item() == pytest.approx(0.5 * (2 + 9 + 4) / 3)  # centres at the origin
    assert torch.equal(loss.center.centers, torch.zeros(3, 3))
    result["aux"].backward()
    assert torch.allclose(features.grad, features.detach() / 3)  # ∂/∂xᵢ of 1/(2B) Σ ‖xᵢ − c‖²
    loss.train()(outputs_for(features), labels)
    assert loss.center.centers[0, 0].item() == pytest.approx(0.5 * (1 + 3) / 3)  # α · Σ x / (1 + n)
    with pytest.raises(ValueError, match="alpha"):
        CenterLoss(3, 3, alpha=0.0)


def outputs_for(features, num_classes=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(len(features), num_classes, generator=generator, dtype=features.dtype, requires_grad=True)
    return {"logits": logits, "features": features}


def test_dfer_loss_ec_stfl_combines_with_lambda():
    features, labels = batch()
    outputs = outputs_for(features)
    ce = F.cross_entropy(outputs["logits"], labels)
    default = DFERLoss("ec_stfl", num_classes=3)(outputs, labels)
    assert default["aux"].item() == pytest.approx(5 / 56)
    assert default["ce"].item() == pytest.approx(ce.item())
    assert default["loss"].item() == pytest.approx(ce.item() + 10 * 5 / 56)
    custom = DFERLoss("ec_stfl", lam=2.0, num_classes=3)(outputs, labels)
    assert custom["loss"].item() == pytest.approx(ce.item() + 2 * 5 / 56)


def test_dfer_loss_ce_with_label_smoothing():
    features, labels = batch()
    outputs = {"logits": outputs_for(features)["logits"]}  # no features needed
    result = DFERLoss("ce", label_smoothing=0.1)(outputs, labels)
    expected = F.cross_entropy(outputs["logits"], labels, label_smoothing=0.1)
    assert result["loss"].item() == pytest.approx(expected.item())
    assert result["aux"].item() == 0.0


def test_dfer_loss_ec_stfl_single_class_batch_trains_on_ce_only():
    features = torch.randn(4, 6, requires_grad=True)
    outputs = outputs_for(features)
    labels = torch.full((4,), 2)
    result = DFERLoss("ec_stfl", num_classes=3)(outputs, labels)
    assert result["aux"].item() == 0.0
    assert result["loss"].item() == pytest.approx(result["ce"].item())
    result["loss"].backward()
    assert torch.equal(features.grad, torch.zeros(4, 6))
    assert torch.isfinite(outputs["logits"].grad).all()


def test_dfer_loss_center_default_lambda():
    features = torch.tensor([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    labels = torch.tensor([0, 0, 1])
    outputs = outputs_for(features)
    result = DFERLoss("center", num_classes=3, feature_dim=3)(outputs, labels)
    # Centres at the origin: ½ (2 + 9 + 4) / 3.
    assert result["aux"].item() == pytest.approx(2.5)
    assert result["loss"].item() == pytest.approx(result["ce"].item() + 1e-4 * 2.5)


def bce_reference(logits, target):
    """Eq. 11 of CEFLNet written out with the probabilities themselves."""
    p = logits.double().softmax(dim=1)
    return -(target * p.log() + (1 - target) * (1 - p).log()).sum(dim=1).mean()


def test_softmax_bce_is_ceflnet_eq_11():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(5, 7, generator=generator) * 3
    labels = torch.tensor([0, 3, 6, 2, 2])
    result = DFERLoss("softmax_bce")({"logits": logits}, labels)
    expected = bce_reference(logits, F.one_hot(labels, 7).double())
    assert result["loss"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert result["loss"].item() > F.cross_entropy(logits, labels).item()  # the wrong classes add their terms
    # finite where p → 1, where 1 − p underflows in float32
    confident = torch.tensor([[40.0, 0, 0, 0, 0, 0, 0]], requires_grad=True)
    value = softmax_bce(confident, F.one_hot(torch.tensor([1]), 7).float())
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isfinite(confident.grad).all() and value.item() > 39


def test_class_weights_weigh_the_classification_term_like_sklearn_balanced():
    generator = torch.Generator().manual_seed(2)
    labels = torch.tensor([0, 0, 0, 0, 1, 2, 2, 0])
    weights = balanced_class_weights(class_counts(labels.numpy(), 3))
    logits = torch.randn(8, 3, generator=generator)
    weighted = DFERLoss("ce", num_classes=3, class_weights=torch.tensor(weights))({"logits": logits}, labels)
    assert weighted["loss"].item() == pytest.approx(F.cross_entropy(logits, labels, weight=torch.tensor(
        weights, dtype=torch.float32)).item())
    bce = DFERLoss("softmax_bce", num_classes=3, class_weights=torch.tensor(weights))({"logits": logits}, labels)
    per_sample = torch.stack([bce_reference(logits[i:i + 1], F.one_hot(labels[i:i + 1], 3).double())
                              for i in range(8)])
    w = torch.tensor(weights)[labels]
    assert bce["loss"].item() == pytest.approx(((w * per_sample).sum() / w.sum()).item(), rel=1e-6)


def test_soft_targets_are_cross_entropy_with_the_vote_distribution():
    logits = torch.randn(2, 7, generator=torch.Generator().manual_seed(3))
    votes = [(0, 0, 0, 7, 3, 0, 0), None]
    target = torch.from_numpy(np.stack([vote_distribution(v, label, 7) for v, label in zip(votes, (3, 5))]))
    result = DFERLoss("ce")({"logits": logits}, torch.tensor([3, 5]), target)
    expected = -(target * logits.log_softmax(1)).sum(1).mean()
    assert result["loss"].item() == pytest.approx(expected.item())


def test_dfer_loss_flattens_features():
    features, labels = batch()
    outputs = outputs_for(features.reshape(4, 2, 1, 1))
    assert DFERLoss("ec_stfl", num_classes=3)(outputs, labels)["aux"].item() == pytest.approx(5 / 56)


def test_dfer_loss_errors():
    assert LOSSES == ("ce", "softmax_bce", "ec_stfl", "center")
    with pytest.raises(ValueError, match="ce, softmax_bce, ec_stfl, center"):
        DFERLoss("focal")
    with pytest.raises(ValueError, match="feature_dim"):
        DFERLoss("center")
    with pytest.raises(ValueError, match="lam"):
        DFERLoss("ce", lam=1.0)
    features, labels = batch()
    with pytest.raises(ValueError, match="features"):
        DFERLoss("ec_stfl", num_classes=3)({"logits": outputs_for(features)["logits"]}, labels)
