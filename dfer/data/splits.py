"""Seeded stratified splits for datasets dfer writes (synthetic sets, exported annotations)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stratified_holdout(strata: Sequence, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of ``round(fraction·n)`` held-out items, ⌊fraction·n_s⌋ from each stratum s.

    The remainder is drawn from the leftovers, so small strata still contribute by chance.
    """
    strata = np.asarray(strata)
    held = np.zeros(len(strata), bool)
    leftovers: list[int] = []
    for stratum in np.unique(strata):
        members = rng.permutation(np.flatnonzero(strata == stratum))
        take = int(np.floor(fraction * len(members) + 1e-9))
        held[members[:take]] = True
        leftovers.extend(members[take:])
    extra = round(fraction * len(strata)) - int(held.sum())
    if extra > 0:
        held[rng.choice(np.sort(leftovers), extra, replace=False)] = True
    return held


def stratified_folds(classes: Sequence[int], folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold 1..``folds`` per item: each class shuffled and dealt round-robin, sizes within one."""
    classes = np.asarray(classes)
    assigned = np.zeros(len(classes), int)
    dealt = 0
    for label in np.unique(classes):
        members = rng.permutation(np.flatnonzero(classes == label))
        assigned[members] = (dealt + np.arange(len(members))) % folds + 1
        dealt += len(members)
    return assigned


def subject_splits(subjects: list[str], seed: int = 0) -> dict[str, str]:
    """Subject → train / validation / test, 6:2:2 of the subjects (at least one in each split when
    there are three or more), seeded."""
    order = list(np.random.default_rng(seed).permutation(sorted(set(subjects))))
    count = len(order)
    test = max(round(0.2 * count), 1 if count >= 3 else 0)
    validation = max(round(0.2 * count), 1 if count >= 3 else 0)
    names = ["test"] * test + ["validation"] * validation + ["train"] * (count - test - validation)
    return dict(zip(order, names))
