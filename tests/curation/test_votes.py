"""DFEW's single-label rule and agreement."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_kappa

from dfer import labels
from dfer.curation.votes import agreement_report, distributions, single_labels, vote_table


def votes_of(rows):
    return pd.DataFrame(rows, columns=list(labels.EXPRESSIONS), index=[f"{i:05d}" for i in range(len(rows))])


def test_single_label_needs_more_than_r_votes():
    votes = votes_of([[0, 0, 0, 7, 3, 0, 0], [0, 0, 0, 6, 4, 0, 0], [10, 0, 0, 0, 0, 0, 0]])
    singles = single_labels(votes)
    assert singles.label.tolist() == ["happy", "", "angry"] and singles.single.tolist() == [True, False, True]
    assert single_labels(votes, threshold=5).single.tolist() == [True, True, True]
    assert np.allclose(distributions(votes).sum(axis=1), 1)


def test_agreement_report_matches_statsmodels():
    rng = np.random.default_rng(0)
    votes = votes_of([rng.multinomial(10, rng.dirichlet(np.ones(7) * 0.3)) for _ in range(60)])
    report = agreement_report(votes)
    assert report["kappa_all"] == pytest.approx(statsmodels_kappa(votes.to_numpy()))
    chosen = votes[single_labels(votes).single]
    assert report["kappa_single"] == pytest.approx(statsmodels_kappa(chosen.to_numpy()))
    assert sum(report["single_per_class"].values()) == report["single_labeled"] == len(chosen)


def test_vote_table_from_answers_names_bad_rows():
    answers = pd.DataFrame({"task": ["a", "a", "b"], "worker": [1, 2, 1], "label": ["happy", "sad", "happy"]})
    table = vote_table(answers)
    assert table.loc["a", "happy"] == 1 and table.loc["b", "happy"] == 1 and list(table.columns) == list(labels.EXPRESSIONS)
    with pytest.raises(ValueError, match="row 1"):
        vote_table(answers.assign(label=["happy", "joy", "sad"]))
