import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from dfer.data.targets import ClassBalancedSampler, balanced_class_weights, class_counts, vote_distribution


def test_balanced_weights_equal_scikit_learn():
    labels = np.array([0, 0, 0, 0, 1, 2, 2, 0, 5, 5])
    counts = class_counts(labels, 7)
    assert counts.tolist() == [5, 1, 2, 0, 0, 2, 0]
    weights = balanced_class_weights(counts)
    present = np.unique(labels)
    assert np.allclose(weights[present], compute_class_weight("balanced", classes=present, y=labels))
    assert (weights[[3, 4, 6]] == 0).all()  # absent classes weigh nothing
    with pytest.raises(ValueError, match=r"\[0, 7\)"):
        class_counts([0, 7], 7)


def test_vote_distribution_shares_and_one_hot_fallback():
    assert vote_distribution((0, 0, 0, 7, 3, 0, 0), 3, 7).tolist() == pytest.approx([0, 0, 0, 0.7, 0.3, 0, 0])
    for missing in (None, float("nan"), (0,) * 7):
        assert vote_distribution(missing, 5, 7).tolist() == [0, 0, 0, 0, 0, 1, 0]
    with pytest.raises(ValueError, match="7 vote counts"):
        vote_distribution((1, 2), 0, 7)


def test_class_balanced_sampler_draws_classes_equally_and_shards_by_rank():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    sampler = ClassBalancedSampler(labels, 3, seed=4)
    drawn = []
    for epoch in range(20):
        sampler.set_epoch(epoch)
        drawn.extend(sampler)
    shares = np.bincount(labels[drawn], minlength=3) / len(drawn)
    assert np.allclose(shares, 1 / 3, atol=0.04)  # the 1 % class is drawn a third of the time
    sampler.set_epoch(3)
    first, again = list(sampler), list(sampler)
    assert first == again and len(first) == len(sampler) == 100  # reproducible per (seed, epoch)
    ranks = [ClassBalancedSampler(labels, 3, seed=4, rank=r, world=2) for r in (0, 1)]
    for rank in ranks:
        rank.set_epoch(3)
    assert sorted(list(ranks[0]) + list(ranks[1])) == sorted(first)  # the ranks split one global draw
