"""Fleiss' kappa against statsmodels and by hand; capture–recapture."""

import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_kappa

from dfer.curation.agreement import chapman, fleiss_kappa, lincoln_petersen, remaining_errors


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_statsmodels_with_equal_raters(seed):
    rng = np.random.default_rng(seed)
    counts = np.stack([rng.multinomial(10, rng.dirichlet(np.ones(7) * 0.5)) for _ in range(40)])
    assert fleiss_kappa(counts) == pytest.approx(statsmodels_kappa(counts, method="fleiss"), abs=1e-12)


def test_kappa_with_unequal_raters_by_hand():
    # item 1: 3 raters all "a" → P1 = 1; item 2: 2 raters "a","b" → P2 = 0; item 3: 4 raters 2/2 → P3 = 1/3
    counts = np.array([[3, 0], [1, 1], [2, 2]])
    p_bar = (1 + 0 + 1 / 3) / 3
    shares = np.array([6, 3]) / 9
    chance = (shares ** 2).sum()
    assert fleiss_kappa(counts) == pytest.approx((p_bar - chance) / (1 - chance))


def test_kappa_edge_cases():
    assert fleiss_kappa([[5, 0], [4, 0]]) == 1.0
    assert fleiss_kappa([[1, 0], [2, 1], [0, 3]]) == fleiss_kappa([[2, 1], [0, 3]])  # 1-rater items skipped
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 0]])


def test_capture_recapture():
    assert lincoln_petersen(20, 30, 10) == 60
    assert chapman(20, 30, 10) == pytest.approx(21 * 31 / 11 - 1)
    assert chapman(5, 5, 0) == 35  # finite without overlap
    assert remaining_errors(20, 30, 10) == pytest.approx(chapman(20, 30, 10) - 40)
    with pytest.raises(ValueError):
        lincoln_petersen(5, 5, 0)
