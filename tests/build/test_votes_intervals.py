"""DFEW's single-label rule and agreement; SDFE-LV's frame-level max-voting of intervals."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_kappa

from dfer import labels
from dfer.build.intervals import aggregate_intervals, frame_labels, max_vote, to_intervals
from dfer.build.votes import agreement_report, distributions, single_labels, vote_table


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


def test_frames_are_decoded_and_checked():
    assert frame_labels([[1, 3, 4]], 6).tolist() == [0, 4, 4, 4, 0, 0]
    with pytest.raises(ValueError, match="category 7"):
        frame_labels([[0, 1, 7]], 5)
    with pytest.raises(ValueError, match="inside frames"):
        frame_labels([[3, 9, 1]], 5)
    with pytest.raises(ValueError, match="overlaps"):
        frame_labels([[0, 3, 1], [2, 4, 2]], 5, who="ann2")


def test_max_vote_and_tie_rule():
    codes = np.array([[4, 4, 4, 0, 1, 1],
                      [4, 4, 0, 0, 2, 2],
                      [0, 4, 0, 3, 0, 2]])
    # frame 2: one vote for 4 vs two for none → none; frame 3: 3 vs none×2 → none;
    # frame 4: 1, 2, none tie → none wins ties; frame 5: 2 (two votes) beats 1
    assert max_vote(codes).tolist() == [4, 4, 0, 0, 0, 2]
    tie = np.array([[5, 5, 5, 5], [6, 6, 0, 0]])
    # frame 0 and 1: 5 vs 6 tied; annotator 0 gave 4 frames to 5, annotator 1 gave 2 to 6 → 5
    assert max_vote(tie).tolist()[:2] == [5, 5]


def test_intervals_round_trip_and_aggregate():
    assert to_intervals(np.array([0, 4, 4, 0, 2, 2, 2])) == [[1, 2, 4], [4, 6, 2]]
    annotations = {"a": [[10, 20, 4]], "b": [[12, 22, 4]], "c": [[11, 19, 4], [40, 45, 6]], "d": [], "e": [[10, 21, 4]]}
    final, agreement = aggregate_intervals(annotations, 60)
    assert final == [[11, 20, 4]]  # frames where at least 3 of 5 annotators marked happy
    assert agreement["annotators"] == 5 and agreement["pairs"] == 10
    assert 0 < agreement["mean_iou"] < 1 and agreement["mean_iou_same_category"] <= agreement["mean_iou"]
