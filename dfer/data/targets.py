"""Training targets beyond one label per clip: class balance and annotators' vote distributions.

DFEW's classes are far from balanced (disgust is 1.2% of its single-labelled clips), and each of
its clips carries ten annotators' votes over the seven classes. These are the pieces later papers
train with: class weights for the loss, a sampler that draws classes equally often, and the vote
shares as soft targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Sampler

from dfer.errors import InputError


def class_counts(labels: Sequence[int], num_classes: int) -> np.ndarray:
    """Clips per class, (num_classes,); labels outside [0, num_classes) are refused."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise InputError(f"labels must be in [0, {num_classes}), found {sorted(set(labels.tolist()))}")
    return np.bincount(labels, minlength=num_classes)


def balanced_class_weights(counts: Sequence[int]) -> np.ndarray:
    """w_c = n / (K · n_c) over the K classes that have clips, scikit-learn's
    ``compute_class_weight("balanced")``; 0 for a class with no clips (its weight is never used)."""
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.zeros_like(counts)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def vote_distribution(votes, label: int, num_classes: int) -> np.ndarray:
    """The share of votes per class, float32 (num_classes,); the one-hot ``label`` for a clip
    without votes (None, NaN, or all zero)."""
    counts = None if votes is None or np.ndim(votes) == 0 else np.asarray(votes, dtype=np.float64)
    if counts is not None and counts.shape != (num_classes,):
        raise InputError(f"expected {num_classes} vote counts, got {list(counts.ravel())}")
    if counts is None or not np.isfinite(counts).all() or counts.sum() <= 0:
        one_hot = np.zeros(num_classes, dtype=np.float32)
        one_hot[label] = 1
        return one_hot
    return (counts / counts.sum()).astype(np.float32)


class ClassBalancedSampler(Sampler[int]):
    """Draws ``len(labels)`` clips per epoch with replacement, each class equally likely
    (P(i) ∝ 1 / n_{yᵢ}); with ``world`` > 1 processes, rank r takes every world-th draw.

    The draw depends only on (seed, epoch): call :meth:`set_epoch` before each epoch, as with
    :class:`torch.utils.data.DistributedSampler`, whose interface this follows.
    """

    def __init__(self, labels: Sequence[int], num_classes: int, seed: int = 0, rank: int = 0, world: int = 1):
        counts = class_counts(labels, num_classes)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.weights = torch.from_numpy(1.0 / counts[self.labels]) if len(self.labels) else torch.zeros(0)
        self.seed, self.rank, self.world, self.epoch = seed, rank, world, 0
        self.per_rank = -(-len(self.labels) // world)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_rank

    def __iter__(self) -> Iterator[int]:
        if not len(self.labels):
            return iter(())
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        draws = torch.multinomial(self.weights, self.per_rank * self.world, replacement=True, generator=generator)
        return iter(draws[self.rank::self.world].tolist())
