import json
import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, recall_score

from dfer import labels
from dfer.metrics.classification import (
    classification_report,
    confusion,
    cross_scenario_matrix,
    grouped_metrics,
    per_class_recall,
    pooled_and_mean,
    uar,
    war,
)


@pytest.mark.parametrize("seed", range(5))
def test_matches_scikit_learn_with_absent_classes(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.choice([0, 1, 2, 4, 6], size=60)  # classes 3 and 5 never true
    y_pred = rng.integers(0, 7, size=60)  # but may be predicted
    all_classes = list(range(7))
    assert war(y_true, y_pred) == pytest.approx(accuracy_score(y_true, y_pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about predicted classes absent from y_true
        assert uar(y_true, y_pred) == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    expected = recall_score(y_true, y_pred, labels=all_classes, average=None, zero_division=np.nan)
    recall = per_class_recall(y_true, y_pred)
    np.testing.assert_allclose(recall, expected, equal_nan=True)
    assert np.isnan(recall[[3, 5]]).all() and not np.isnan(recall[[0, 1, 2, 4, 6]]).any()
    np.testing.assert_array_equal(confusion(y_true, y_pred), confusion_matrix(y_true, y_pred, labels=all_classes))


def test_confusion_rows_are_true_columns_predicted():
    matrix = confusion([0, 0, 1], [1, 1, 1], num_classes=3)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, [[0, 2, 0], [0, 1, 0], [0, 0, 0]])


def test_uar_differs_from_war_on_imbalanced_classes():
    y_true, y_pred = [0, 0, 0, 1], [0, 0, 0, 0]
    assert war(y_true, y_pred) == 0.75
    assert uar(y_true, y_pred) == 0.5


def test_classification_report_is_json_ready():
    report = classification_report([0, 0, 1, 1], [0, 1, 1, 1], class_names=("a", "b", "c"))
    assert report["war"] == 0.75 and report["uar"] == 0.75 and report["num_samples"] == 4
    assert report["recall"] == {"a": 0.5, "b": 1.0, "c": None}
    assert report["support"] == {"a": 2, "b": 2, "c": 0}
    assert report["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert report["class_names"] == ["a", "b", "c"]
    json.dumps(report, allow_nan=False)


def test_classification_report_defaults_to_canonical_expressions():
    report = classification_report([0, 6], [0, 6])
    assert list(report["recall"]) == list(labels.EXPRESSIONS)


def test_pooled_and_mean_differ_on_hand_example():
    fold_1 = ([0, 0, 0, 1], [0, 0, 0, 0])  # WAR 3/4, recalls 1 and 0 → UAR 1/2
    fold_2 = ([1, 1], [1, 0])  # WAR 1/2, only class 1 (recall 1/2) → UAR 1/2
    result = pooled_and_mean([fold_1, fold_2], num_classes=2)
    # Pooled: 6 samples, 4 correct; class 0 recall 3/3, class 1 recall 1/3.
    assert result["pooled"] == {"war": pytest.approx(4 / 6), "uar": pytest.approx((1 + 1 / 3) / 2), "num_samples": 6}
    mean = result["mean_of_folds"]
    assert mean["war"] == pytest.approx((3 / 4 + 1 / 2) / 2) and mean["war_std"] == pytest.approx(1 / 8)
    assert mean["uar"] == pytest.approx(1 / 2) and mean["uar_std"] == 0
    assert [fold["num_samples"] for fold in result["folds"]] == [4, 2]
    assert result["folds"][0]["war"] == 0.75
    json.dumps(result, allow_nan=False)


def test_pooled_and_mean_needs_folds():
    with pytest.raises(ValueError, match="no folds"):
        pooled_and_mean([])


def test_grouped_metrics_values_and_order():
    y_true = [0, 1, 0, 1, 2, 2]
    y_pred = [0, 0, 0, 1, 2, 0]
    groups = ["AI", "AI", "DL", "DL", "DL", "other"]
    table = grouped_metrics(y_true, y_pred, groups, num_classes=3)
    assert list(table.index) == ["All", "DL", "AI", "other"]  # paper order for FERV39k scenarios
    assert list(table.columns) == ["war", "uar", "count"]
    assert table.loc["All", "count"] == 6 and table.loc["All", "war"] == pytest.approx(4 / 6)
    # All: class 0 recall 2/2, class 1 1/2, class 2 1/2.
    assert table.loc["All", "uar"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert table.loc["AI", "war"] == 0.5 and table.loc["AI", "uar"] == 0.5  # recalls 1, 0
    assert table.loc["DL", "war"] == 1.0 and table.loc["DL", "count"] == 3
    assert table.loc["other", "war"] == 0.0 and table.loc["other", "uar"] == 0.0


def test_grouped_metrics_orders_scenes_like_the_paper():
    table = grouped_metrics([0, 0, 0], [0, 0, 0], ["War", "Action", "Argue"])
    assert list(table.index) == ["All", "Argue", "Action", "War"]


def test_grouped_metrics_rejects_a_group_named_all():
    with pytest.raises(ValueError, match="All"):
        grouped_metrics([0], [0], ["All"])


def test_cross_scenario_matrix_layout():
    names = ["AI", "SIA", "WIS", "DL"]  # not the paper's order
    results = {(train, test): (0.30 + 0.01 * i, 0.20 + 0.01 * j)
               for i, train in enumerate(names) for j, test in enumerate(names)}
    results[("DL", "DL")] = (0.3769, 0.2721)  # FERV39k Table 3, first cell
    table = cross_scenario_matrix(results)
    assert table.shape == (4, 4)
    assert list(table.index) == list(table.columns) == ["DL", "WIS", "SIA", "AI"]
    assert table.index.name == "trained on" and table.columns.name == "tested on"
    assert table.loc["DL", "DL"] == "37.69/27.21"
    assert table.loc["AI", "SIA"] == "30.00/21.00"  # trained on AI (i = 0), tested on SIA (j = 1)


def test_cross_scenario_matrix_missing_cells_and_custom_order():
    table = cross_scenario_matrix({("x", "y"): (0.5, 0.25)}, scenarios=["y", "x"])
    assert table.loc["x", "y"] == "50.00/25.00" and table.loc["y", "x"] == ""



@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [([0, 1], [0], "equal length"), ([], [], "non-empty"), ([0, 7], [0, 1], "0..6"),
     ([0.0, 1.0], [0, 1], "integer"), ([[0]], [[0]], "1-D")],
)
def test_rejects_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        uar(y_true, y_pred)


def test_seed_summary_mean_and_sample_std_at_every_depth():
    from dfer.metrics.classification import seed_summary

    runs = {0: {"pooled": {"war": 0.5, "uar": 0.4}, "per_fold": {1: {"war": 0.6}}, "clips": 10},
            1: {"pooled": {"war": 0.7, "uar": 0.2}, "per_fold": {1: {"war": 0.8}}, "clips": 10},
            2: {"pooled": {"war": 0.6, "uar": 0.3}, "per_fold": {}, "clips": 10}}
    summary = seed_summary(runs)
    assert summary["seeds"] == [0, 1, 2]
    assert summary["pooled.war"]["mean"] == pytest.approx(0.6)
    assert summary["pooled.war"]["std"] == pytest.approx(np.std([0.5, 0.7, 0.6], ddof=1))
    assert summary["pooled.uar"]["values"] == [0.4, 0.2, 0.3]
    assert "per_fold.1.war" not in summary and "clips" not in summary  # not in every run; not a rate
    assert seed_summary({4: {"war": 0.5}})["war"] == {"mean": 0.5, "std": 0.0, "values": [0.5]}
