"""Training losses: softmax cross-entropy or CEFLNet's softmax binary cross-entropy (Liu et al.
2022, Eq. 11), the former optionally with EC-STFL (DFEW, Jiang et al. 2020) or center loss (Wen et
al. 2016) on the features of the layer before the classifier.

Total objective: L = L_cls + λ·L_aux, with λ = 10 for EC-STFL and λ = 1e-4 for center loss (the
values of the DFEW paper, Sec. 4.1, which sets the latter "according to" Wen et al.; the centres
move by Wen et al.'s own rule at rate α = 0.5).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dfer.errors import InputError

LOSSES: tuple[str, ...] = ("ce", "softmax_bce", "ec_stfl", "center")
DEFAULT_LAMBDA: dict[str, float] = {"ce": 0.0, "softmax_bce": 0.0, "ec_stfl": 10.0, "center": 1e-4}

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

    Wen et al. (2016) Eq. 2 sums over the mini-batch (½ Σᵢ ‖xᵢ − c_{yᵢ}‖²); their released Caffe
    layer divides by the batch size, as here, which makes λ independent of the batch size.

    Args:
        features: (B, D); labels: (B,) integer classes; centers: (K, D) one centre per class.
    """
    _check_batch(features, labels)
    return 0.5 * (features - centers[labels]).pow(2).sum(dim=1).mean()


def center_update(features: Tensor, labels: Tensor, centers: Tensor) -> Tensor:
    """Wen et al. (2016) Eq. 4: Δc_j = Σ_{yᵢ = j} (c_j − xᵢ) / (1 + n_j), for every class j
    (n_j = the batch's samples of class j; Δc_j = 0 for classes absent from the batch). (K, D)."""
    _check_batch(features, labels)
    features = features.to(centers.dtype)
    counts = torch.bincount(labels, minlength=len(centers)).to(centers.dtype)
    sums = torch.zeros_like(centers).index_add_(0, labels, features)
    return (counts[:, None] * centers - sums) / (1 + counts[:, None])


class CenterLoss(nn.Module):
    """Center loss (Wen et al. 2016) with centres (K, D) that follow the features at their own rate.

    ``forward`` gives :func:`center_loss` (gradient to the features only) and, in training mode,
    then moves the centres by Wen et al.'s rule c_j ← c_j − α Δc_j (:func:`center_update`, their
    Algorithm 1), with the batch's features detached. The centres are a buffer, not a parameter:
    the network's optimizer, its learning rate and the loss weight λ do not touch them (with λ =
    1e-4 and lr = 0.01, an optimizer-driven centre would barely leave the origin). They start at
    the origin and are saved in the module's ``state_dict``.

    Args:
        alpha: the centres' rate α ∈ (0, 1] (Wen et al. use 0.5).
        gather: optional ``(features, labels) → (features, labels)`` of the whole global batch, so
            that data-parallel processes move their centres alike.
    """

    def __init__(self, num_classes: int, feature_dim: int, alpha: float = 0.5, gather=None):
        super().__init__()
        if not 0 < alpha <= 1:
            raise InputError(f"center loss alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.gather = gather
        self.register_buffer("centers", torch.zeros(num_classes, feature_dim))

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        loss = center_loss(features, labels, self.centers)
        if self.training:
            with torch.no_grad():
                every, every_label = (features, labels) if self.gather is None else self.gather(features, labels)
                self.centers -= self.alpha * center_update(every.detach().float(), every_label, self.centers)
        return loss

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


def softmax_bce(logits: Tensor, target: Tensor) -> Tensor:
    """CEFLNet's classification loss (Liu et al. 2022, Eq. 11) per sample, (B,):
    −Σ_c [Y_c log p_c + (1 − Y_c) log(1 − p_c)] with p = softmax(logits) and Y (B, K) the one-hot
    label (or a distribution over the classes).

    Unlike softmax cross-entropy, every wrong class is also pushed down on its own. log(1 − p_c) is
    computed as logsumexp_{j≠c} z_j − logsumexp_j z_j, which stays finite when p_c → 1.
    """
    logits = logits.float()
    others = logits[:, None, :].expand(-1, logits.shape[1], -1).masked_fill(
        torch.eye(logits.shape[1], dtype=torch.bool, device=logits.device), float("-inf"))
    log_not_p = others.logsumexp(dim=2) - logits.logsumexp(dim=1, keepdim=True)
    return -(target * logits.log_softmax(dim=1) + (1 - target) * log_not_p).sum(dim=1)


class DFERLoss(nn.Module):
    """L = L_cls + λ·L_aux; ``forward(outputs, labels, target=None)`` → ``{"loss", "ce", "aux"}``.

    ``kind`` is one of :data:`LOSSES`: "ce" (softmax cross-entropy alone), "softmax_bce"
    (:func:`softmax_bce`, CEFLNet Eq. 11, alone), "ec_stfl" (:func:`ec_stfl`, λ = 10 by default;
    0 on single-class batches, so only L_ce is back-propagated then) or "center"
    (:class:`CenterLoss`, λ = 1e-4 and α = 0.5 by default; needs ``feature_dim``). ``outputs``
    holds "logits" (B, K) and, for EC-STFL and center loss, "features" (B, D) — or (B, …),
    flattened to (B, D). The auxiliary losses take the labels; the classification term takes
    ``target`` (B, K) class distributions (soft targets, e.g. DFEW's vote shares) when given.

    ``class_weights`` (K,) weigh the classification term per true class (soft targets: per
    class of the distribution); ``gather`` (see :class:`CenterLoss`) makes EC-STFL a statistic of
    the global batch under data parallelism, with gradients flowing back to every process.
    """

    def __init__(
        self,
        kind: str = "ce",
        lam: float | None = None,
        num_classes: int = 7,
        feature_dim: int | None = None,
        label_smoothing: float = 0.0,
        center_alpha: float = 0.5,
        class_weights: Tensor | None = None,
        gather=None,
    ):
        super().__init__()
        if kind not in LOSSES:
            raise InputError(f"unknown loss {kind!r}; choose one of: {', '.join(LOSSES)}")
        if kind in ("ce", "softmax_bce") and lam:
            raise InputError(f"lam={lam} has no auxiliary loss to weigh with kind={kind!r}")
        if kind == "center" and feature_dim is None:
            raise InputError("center loss needs feature_dim (the size of the features before the classifier)")
        if class_weights is not None and len(class_weights) != num_classes:
            raise InputError(f"class_weights has {len(class_weights)} entries for {num_classes} classes")
        self.kind = kind
        self.lam = DEFAULT_LAMBDA[kind] if lam is None else float(lam)
        self.label_smoothing = label_smoothing
        self.num_classes = num_classes
        self.gather = gather
        self.register_buffer("class_weights", None if class_weights is None else torch.as_tensor(
            class_weights, dtype=torch.float32))
        self.center = (CenterLoss(num_classes, feature_dim, center_alpha, gather) if kind == "center" else None)

    def forward(self, outputs: Mapping[str, Tensor], labels: Tensor, target: Tensor | None = None) -> dict[str, Tensor]:
        logits = outputs["logits"]
        weights = None if self.class_weights is None else self.class_weights.to(logits.dtype)
        if self.kind == "softmax_bce":
            truth = F.one_hot(labels, self.num_classes).to(torch.float32) if target is None else target.float()
            smoothed = truth * (1 - self.label_smoothing) + self.label_smoothing / self.num_classes
            per_sample = softmax_bce(logits, smoothed)
            # weighted like cross_entropy(weight=…): a mean with weight w_y (soft targets: Σ_c w_c Y_c)
            sample_weights = torch.ones_like(per_sample) if weights is None else truth @ weights.float()
            ce = (sample_weights * per_sample).sum() / sample_weights.sum()
        else:
            ce = F.cross_entropy(logits, labels if target is None else target.to(logits.dtype), weight=weights,
                                 label_smoothing=self.label_smoothing)
        if self.kind in ("ce", "softmax_bce"):
            aux = ce.new_zeros(())
        else:
            if "features" not in outputs:
                raise InputError(
                    f"loss {self.kind!r} needs outputs['features'] (the layer before the classifier); "
                    f"the model returned only {sorted(outputs)}"
                )
            features = outputs["features"].flatten(1)
            if self.kind == "ec_stfl":
                aux = ec_stfl(*(self.gather(features, labels) if self.gather is not None else (features, labels)))
            else:
                aux = self.center(features, labels)
        return {"loss": ce + self.lam * aux, "ce": ce, "aux": aux}

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, lam={self.lam}, label_smoothing={self.label_smoothing}"


def _check_batch(features: Tensor, labels: Tensor) -> None:
    if features.dim() != 2 or labels.shape != features.shape[:1]:
        raise InputError(
            f"expected features (B, D) and labels (B,); got {tuple(features.shape)} and {tuple(labels.shape)}"
        )
