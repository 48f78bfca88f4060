import pytest
import torch
import torch.nn.functional as F

from dfer.models.losses import LOSSES, CenterLoss, DFERLoss, center_loss, ec_stfl

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


def test_center_loss_module_learns_centres():
    module = CenterLoss(num_classes=3, feature_dim=2)
    assert torch.equal(module.centers, torch.zeros(3, 2))
    features = torch.tensor([[2.0, 0.0], [4.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 2])
    assert module(features, labels).item() == pytest.approx(0.5 * (4 + 16 + 1) / 3)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    for _ in range(200):
        optimizer.zero_grad()
        module(features, labels).backward()
        optimizer.step()
    # Each used centre converges to its class mean; the unused one stays put.
    assert torch.allclose(module.centers.detach(), torch.tensor([[3.0, 0.0], [0.0, 0.0], [0.0, 1.0]]), atol=1e-4)


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


def test_dfer_loss_center_default_lambda_and_centre_gradient():
    features = torch.tensor([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    labels = torch.tensor([0, 0, 1])
    loss = DFERLoss("center", num_classes=3, feature_dim=3)
    outputs = outputs_for(features)
    result = loss(outputs, labels)
    # Centres at the origin: ½ (2 + 9 + 4) / 3.
    assert result["aux"].item() == pytest.approx(2.5)
    assert result["loss"].item() == pytest.approx(result["ce"].item() + 1e-4 * 2.5)
    result["loss"].backward()
    assert loss.center.centers.grad is not None and loss.center.centers.grad[2].abs().sum() == 0


def test_dfer_loss_flattens_features():
    features, labels = batch()
    outputs = outputs_for(features.reshape(4, 2, 1, 1))
    assert DFERLoss("ec_stfl", num_classes=3)(outputs, labels)["aux"].item() == pytest.approx(5 / 56)


def test_dfer_loss_errors():
    assert LOSSES == ("ce", "ec_stfl", "center")
    with pytest.raises(ValueError, match="ce, ec_stfl, center"):
        DFERLoss("focal")
    with pytest.raises(ValueError, match="feature_dim"):
        DFERLoss("center")
    with pytest.raises(ValueError, match="lam"):
        DFERLoss("ce", lam=1.0)
    features, labels = batch()
    with pytest.raises(ValueError, match="features"):
        DFERLoss("ec_stfl", num_classes=3)({"logits": outputs_for(features)["logits"]}, labels)
