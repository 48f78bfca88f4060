"""A simulated crowd: workers with their own confusion matrices, a share of spammers, gold items.

Used to test quality control and aggregation, and to plan an annotation run (how many copies per
group, which threshold) before paying for one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dfer import labels


@dataclass(frozen=True)
class Crowd:
    """Parameters of :func:`simulate_answers`."""

    workers: int = 30
    spammers: float = 0.3  # share of workers who answer at random
    accuracy: tuple[float, float] = (0.6, 0.95)  # a good worker's per-class accuracy range
    answers_per_task: int = 3
    classes: tuple[str, ...] = labels.EXPRESSIONS


def worker_confusions(crowd: Crowd, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(workers, classes, classes)`` row-stochastic confusion matrices and a spammer flag per worker.

    A good worker answers class k correctly with a probability drawn from ``accuracy`` per class
    and otherwise picks among the other classes with Dirichlet-drawn preferences; a spammer answers
    uniformly at random whatever the truth.
    """
    k = len(crowd.classes)
    spammer = np.zeros(crowd.workers, bool)
    spammer[rng.permutation(crowd.workers)[:int(round(crowd.spammers * crowd.workers))]] = True
    confusions = np.empty((crowd.workers, k, k))
    for worker in range(crowd.workers):
        if spammer[worker]:
            confusions[worker] = 1.0 / k
            continue
        for truth in range(k):
            correct = rng.uniform(*crowd.accuracy)
            others = rng.dirichlet(np.ones(k - 1)) * (1 - correct)
            confusions[worker, truth] = np.insert(others, truth, correct)
    return confusions, spammer


def simulate_answers(truth: pd.Series, crowd: Crowd = Crowd(), seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers ``(task, worker, label)`` of a simulated crowd to tasks whose true labels are
    ``truth`` (task → class name); each task goes to ``answers_per_task`` distinct random workers.
    Also returns the workers ``(worker, spammer, accuracy)`` (accuracy: mean of the diagonal)."""
    rng = np.random.default_rng(seed)
    confusions, spammer = worker_confusions(crowd, rng)
    index = {name: i for i, name in enumerate(crowd.classes)}
    rows = []
    for task, label in truth.items():
        for worker in rng.choice(crowd.workers, size=crowd.answers_per_task, replace=False):
            answer = rng.choice(len(crowd.classes), p=confusions[worker, index[label]])
            rows.append({"task": task, "worker": f"w{worker:03d}", "label": crowd.classes[answer]})
    workers = pd.DataFrame({"worker": [f"w{w:03d}" for w in range(crowd.workers)], "spammer": spammer,
                            "accuracy": np.einsum("wkk->wk", confusions).mean(axis=1)})
    return pd.DataFrame(rows), workers
