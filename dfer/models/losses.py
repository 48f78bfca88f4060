"""Training losses: cross-entropy alone, or with EC-STFL (DFEW, Jiang et al. 2020) or center loss
(Wen et al. 2016) on the features of the layer before the classifier.

Total objective: L = L_ce + λ·L_aux, with λ = 10 for EC-STFL and λ = 1e-4 for center loss (the
values of the DFEW paper, Sec. 4.1).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dfer.errors import InputError

LOSSES: tuple[str, ...] = ("ce", "ec_stfl", "center")
DEFAULT_LAMBDA: dict[str, float] = {"ce": 0.0, "ec_stfl": 10.0, "center": 1e-4}

#: Added under the square root of every distance: √(‖xᵢ − xⱼ‖² + ε). The gradient of ‖x‖ is
#: undefined at x = 0 (coinciding features); with ε it is exactly 0 there, and the value moves by
#: at most √ε = 1e-6.
SAFE_NORM_EPS = 1e-12


def pairwise_distances(features: Tensor, eps: float = SAFE_NORM_EPS) -> Tensor:
    """(B, B) safe Euclidean distances dᵢⱼ = √(‖xᵢ − xⱼ‖² + ε) between the rows of ``features``.

    Built from explicit differences (B·B·D memory) rather than the Gram expansion, which loses
    precision to cancellation exactly where features nearly coincide.
    """
    differences = features[:, None, :] - features[None, :, :]
    return torch.sqrt(differences.pow(2).sum(-1) + eps)


def ec_stfl(features: Tensor, labels: Tensor, eps: float = SAFE_NORM_EPS) -> Tensor:
    """EC-STFL loss of a mini-batch, DFEW Eq. 9::

        L = [Σ_{xⱼ ∈ N{xᵢ}} ‖xᵢ − xⱼ‖ / N_{xᵢ}] / [Σ_{xⱼ ∉ N{xᵢ}} ‖xᵢ − xⱼ‖ / N_{xⱼ}],   1 ≤ i, j ≤ n

    N{xᵢ} is the set of batch samples with xᵢ's label (xᵢ included) and N_{xᵢ} its size; n = B.
    Both sums run over ordered pairs (i, j), as the equation's double index says: an intra-class
    pair {a, b} counts twice with weight 1/N (both ends share N), an inter-class pair {a, b} counts
    d_ab·(1/N_a + 1/N_b). The i = j terms (distance 0) are left out. Distances are plain (not
    squared) Euclidean, φ(xᵢ, xⱼ) = ‖xᵢ − xⱼ‖ of Eq. 6, made safe with ε (:data:`SAFE_NORM_EPS`).
    (Eqs. 7–8 as printed assign P and Q the other way round; Eq. 9 and the text — intra-class
    distances are minimised — fix the direction used here.)

    The ratio is invariant to permuting the batch and to scaling or translating all features.
    With a single class in the batch the loss "has no meaning" (Sec. 3) and an exact 0 is
    returned that is still connected to ``features`` (zero gradient). Computed in float32 or wider.

    Args:
        features: (B, D) features of the layer before the classifier.
        labels: (B,) integer class labels.
    """
    _check_batch(features, labels)
    same_class = labels[:, None] == labels[None, :]
    if bool(same_class.all()):
        return features[:0].sum()  # sum over nothing: 0, with a grad_fn
    features = features.to(torch.promote_types(features.dtype, torch.float32))
    distances = pairwise_distances(features, eps)
    class_sizes = same_class.sum(dim=1).to(distances.dtype)  # N_{x_i}
    not_self = ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    intra = (distances / class_sizes[:, None])[same_class & not_self].sum()
    inter = (distances / class_sizes[None, :])[~same_class].sum()
    return intra / inter


def center_loss(features: Tensor, labels: Tensor, centers: Tensor) -> Tensor:
    """Center loss averaged over the batch: L_C = 1/(2B) Σᵢ ‖xᵢ − c_{yᵢ}‖².

    Wen et al. (2016) Eq. 2 sums over the mini-batch (½ Σᵢ ‖xᵢ − c_{yᵢ}‖²); the mean used here makes
    λ independent of the batch size.

    Args:
        features: (B, D); labels: (B,) integer classes; centers: (K, D) one centre per class.
    """
    _check_batch(features, labels)
    return 0.5 * (features - centers[labels]).pow(2).sum(dim=1).mean()


class CenterLoss(nn.Module):
    """Center loss with learnable centres (K, D), :func:`center_loss`.

    The centres are an ``nn.Parameter`` moved by the training optimizer (their gradient is
    −(1/B) Σ_{yᵢ = j} (xᵢ − c_j)), instead of Wen et al.'s separate update
    c_j ← c_j − α Σ_{yᵢ=j} (c_j − xᵢ) / (1 + n_j): one optimizer, and the centres are saved in the
    module's ``state_dict``. Add this module's parameters to the optimizer (without weight decay,
    which would pull the centres to the origin). Centres start at the origin.
    """

    def __init__(self, num_classes: int, feature_dim: int):
        super().__init__()
        self.centers = nn.Parameter(torch.zeros(num_classes, feature_dim))

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        return center_loss(features, labels, self.centers)


class DFERLoss(nn.Module):
    """L = L_ce + λ·L_aux; ``forward(outputs, labels)`` → ``{"loss", "ce", "aux"}``.

    ``kind`` is one of :data:`LOSSES`: "ce" (aux = 0), "ec_stfl" (:func:`ec_stfl`, λ = 10 by
    default; 0 on single-class batches, so only L_ce is back-propagated then) or "center"
    (:class:`CenterLoss`, λ = 1e-4 by default; needs ``feature_dim``, and its centres are
    parameters of this module). ``outputs`` holds "logits" (B, K) and, for EC-STFL and center loss,
    "features" (B, D) — or (B, …), flattened to (B, D).
    """

    def __init__(
        self,
        kind: str = "ce",
        lam: float | None = None,
        num_classes: int = 7,
        feature_dim: int | None = None,
        label_smoothing: float = 0.0,
    ):
        super().__init__()
        if kind not in LOSSES:
            raise InputError(f"unknown loss {kind!r}; choose one of: {', '.join(LOSSES)}")
        if kind == "ce" and lam:
            raise InputError(f"lam={lam} has no auxiliary loss to weigh with kind='ce'")
        if kind == "center" and feature_dim is None:
            raise InputError("center loss needs feature_dim (the size of the features before the classifier)")
        self.kind = kind
        self.lam = DEFAULT_LAMBDA[kind] if lam is None else float(lam)
        self.label_smoothing = label_smoothing
        self.center = CenterLoss(num_classes, feature_dim) if kind == "center" else None

    def forward(self, outputs: Mapping[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        ce = F.cross_entropy(outputs["logits"], labels, label_smoothing=self.label_smoothing)
        if self.kind == "ce":
            aux = ce.new_zeros(())
        else:
            if "features" not in outputs:
                raise InputError(
                    f"loss {self.kind!r} needs outputs['features'] (the layer before the classifier); "
                    f"the model returned only {sorted(outputs)}"
                )
            features = outputs["features"].flatten(1)
            aux = ec_stfl(features, labels) if self.kind == "ec_stfl" else self.center(features, labels)
        return {"loss": ce + self.lam * aux, "ce": ce, "aux": aux}

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, lam={self.lam}, label_smoothing={self.label_smoothing}"


def _check_batch(features: Tensor, labels: Tensor) -> None:
    if features.dim() != 2 or labels.shape != features.shape[:1]:
        raise InputError(
            f"expected features (B, D) and labels (B,); got {tuple(features.shape)} and {tuple(labels.shape)}"
        )
