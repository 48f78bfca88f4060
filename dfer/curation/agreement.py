"""Agreement statistics: Fleiss' kappa (any number of raters per item) and capture–recapture
estimates of errors nobody caught (the agreement of interval annotations is
:func:`dfer.metrics.temporal.coverage_iou`)."""

from __future__ import annotations

import numpy as np

from dfer.errors import InputError


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of an ``items × categories`` table of rating counts.

    Each item may have its own number of raters n_i (≥ 2): the item's agreement is
    P_i = (Σ_j n_ij² − n_i) / (n_i (n_i − 1)), P̄ is their mean, the category shares are
    p_j = Σ_i n_ij / Σ_i n_i and P_e = Σ_j p_j²; κ = (P̄ − P_e) / (1 − P_e). With equal n_i this is
    Fleiss (1971), as ``statsmodels.stats.inter_rater.fleiss_kappa`` computes it; statsmodels
    asserts equal n_i, which crowd data often breaks. Items with fewer than 2 ratings are skipped.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or (counts < 0).any():
        raise InputError("expected a 2-D table of non-negative rating counts (items × categories)")
    raters = counts.sum(axis=1)
    counts, raters = counts[raters >= 2], raters[raters >= 2]
    if len(counts) == 0:
        raise InputError("no item has two or more ratings")
    agreement = ((counts ** 2).sum(axis=1) - raters) / (raters * (raters - 1))
    shares = counts.sum(axis=0) / raters.sum()
    chance = float((shares ** 2).sum())
    if chance >= 1.0:
        return 1.0  # every rating in one category: perfect, trivially
    return float((agreement.mean() - chance) / (1.0 - chance))


def lincoln_petersen(first: int, second: int, both: int) -> float:
    """Lincoln–Petersen estimate of the total number of errors, N̂ = n₁n₂/m, from the errors found
    by two independent checks (``first``, ``second``) and by both (``both``)."""
    if both <= 0:
        raise InputError("no error was found by both checks; use chapman(), which stays finite")
    return first * second / both


def chapman(first: int, second: int, both: int) -> float:
    """Chapman's bias-corrected estimate, N̂ = (n₁+1)(n₂+1)/(m+1) − 1 (finite when m = 0)."""
    return (first + 1) * (second + 1) / (both + 1) - 1


def remaining_errors(first: int, second: int, both: int) -> float:
    """Errors estimated to remain uncaught after two checks: Chapman's N̂ minus those found."""
    return max(chapman(first, second, both) - (first + second - both), 0.0)
