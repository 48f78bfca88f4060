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


#: SDFE-LV's protocol: "the ratio of samples in the training, validation and test sets was set to 6:2:2".
SUBJECT_SPLIT_SHARES = {"train": 0.6, "validation": 0.2, "test": 0.2}


def subject_splits(subjects: Sequence[str], seed: int = 0) -> dict[str, str]:
    """Subject → train / validation / test such that the *samples* (one entry of ``subjects`` per
    sample) come out 6:2:2 as closely as whole subjects allow; no subject is in two splits.

    Subjects are taken largest first (ties in a seeded random order), each into the split where it
    brings the sample counts closest to 6:2:2 (the χ² distance to the shares), so every split ends
    within about one subject's samples of its share. With three or more subjects every split gets
    at least one.
    """
    sizes = dict(zip(*np.unique(np.asarray(list(subjects), dtype=str), return_counts=True)))
    shuffled = list(np.random.default_rng(seed).permutation(sorted(sizes)))
    order = sorted(shuffled, key=lambda subject: -sizes[subject])  # stable: the shuffle breaks ties
    total = sum(sizes.values())
    filled = dict.fromkeys(SUBJECT_SPLIT_SHARES, 0)
    members: dict[str, list[str]] = {name: [] for name in SUBJECT_SPLIT_SHARES}
    for position, subject in enumerate(order):
        empty = [name for name in SUBJECT_SPLIT_SHARES if not members[name]]
        if len(order) >= 3 and len(empty) == len(order) - position:  # the last subjects go to empty splits
            name = empty[0]
        else:
            # the split where the subject most reduces Σ (filled − target)² / target (a χ² distance)
            name = min(SUBJECT_SPLIT_SHARES, key=lambda n: sizes[subject] * (
                2 * (filled[n] - SUBJECT_SPLIT_SHARES[n] * total) + sizes[subject]) / SUBJECT_SPLIT_SHARES[n])
        filled[name] += sizes[subject]
        members[name].append(subject)
    return {subject: name for name, group in members.items() for subject in group}
