"""AR@AN/AUC against a literal implementation of ActivityNet's reference; F1; duration bins."""

import numpy as np
import pandas as pd
import pytest

from dfer.metrics.proposals import average_recall, recall_by_duration, spotting_f1
from dfer.metrics.temporal import frame_iou

from bench.reference_eval import reference_ar_an


def random_case(seed, videos=40, quantum=0.1):
    """Segments on a coarse time grid (so tIoUs land exactly on thresholds), tied scores,
    zero-length segments, videos without proposals and proposals for videos without ground truth."""
    rng = np.random.default_rng(seed)
    truth, proposals = [], []
    for v in range(videos):
        video = f"v{v:03d}"
        for _ in range(rng.integers(1, 5)):
            start = rng.integers(0, 200) * quantum
            truth.append((video, start, start + rng.integers(0, 40) * quantum))
        if v % 7 == 3:
            continue  # no proposals at all
        for _ in range(rng.integers(0, 160)):
            start = rng.integers(0, 200) * quantum
            proposals.append((video, start, start + rng.integers(0, 40) * quantum, round(rng.uniform(), 1)))
    for _ in range(30):  # a video the ground truth does not know still counts in the ratio
        proposals.append(("unknown", 1.0, 2.0, 0.5))
    order = rng.permutation(len(proposals))  # file order interleaves videos
    return (pd.DataFrame(truth, columns=["video", "t_start", "t_end"]),
            pd.DataFrame([proposals[i] for i in order], columns=["video", "t_start", "t_end", "score"]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_avg", [100, 7, None])
def test_same_numbers_as_the_reference(seed, max_avg):
    truth, proposals = random_case(seed)
    mine = average_recall(truth, proposals, max_avg=max_avg)
    recall, average, an, auc = reference_ar_an(truth, proposals, max_avg or len(proposals) / truth.video.nunique())
    assert np.abs(mine.recall - recall).max() <= 1e-9 and np.abs(mine.an - an).max() <= 1e-9
    assert abs(mine.auc - auc) <= 1e-9 and np.abs(mine.average_recall - average).max() <= 1e-9


def test_ar_at_an_is_read_by_value():
    truth, proposals = random_case(0)
    scores = average_recall(truth, proposals)
    assert scores.an[0] == pytest.approx(1.0) and scores.an[-1] == pytest.approx(100.0)
    summary = scores.summary()
    assert list(summary) == ["auc", "AR@1", "AR@5", "AR@10", "AR@50", "AR@100"]
    assert summary["AR@5"] == pytest.approx(100 * scores.average_recall[4])
    assert summary["AR@100"] == pytest.approx(100 * scores.average_recall[-1])


def test_a_perfect_proposal_set_and_hand_checked_values():
    truth = pd.DataFrame({"video": ["a", "a", "b"], "t_start": [0.0, 5.0, 1.0], "t_end": [2.0, 6.0, 3.0]})
    exact = pd.DataFrame({"video": ["a", "a", "b"], "t_start": [0.0, 5.0, 1.0], "t_end": [2.0, 6.0, 3.0],
                          "score": [0.9, 0.8, 0.7]})
    assert average_recall(truth, exact).average_recall[-1] == 1.0
    # a proposal [0, 3] on [0, 2] has tIoU 2/3: found at thresholds 0.5, 0.55, 0.6, 0.65 (4 of 10)
    shifted = exact.assign(t_end=[3.0, 6.0, 3.0])
    assert average_recall(truth, shifted).average_recall[-1] == pytest.approx((2 + 4 / 10) / 3)


def test_bad_inputs():
    truth, proposals = random_case(1)
    with pytest.raises(ValueError, match="no proposals"):
        average_recall(truth, proposals.iloc[:0])
    with pytest.raises(ValueError, match="no segments"):
        average_recall(truth.iloc[:0], proposals)


def test_recall_by_duration_bins():
    truth = pd.DataFrame({"video": ["a", "a", "a"], "t_start": [0.0, 10.0, 20.0], "t_end": [0.3, 12.0, 26.0]})
    proposals = pd.DataFrame({"video": ["a", "a"], "t_start": [0.0, 10.0], "t_end": [0.3, 12.0], "score": [1, 0.5]})
    table = recall_by_duration(truth, proposals).set_index("bin")
    assert table.segments.tolist() == [1, 1, 1]
    assert table["AR@100"].tolist() == [100.0, 100.0, 0.0]


def test_megc_f1():
    assert frame_iou((10, 19), [(15, 24)])[0] == pytest.approx(5 / 15)
    truth = pd.DataFrame({"video": ["a", "a", "b"], "onset": [10, 50, 0], "offset": [20, 60, 9]})
    predicted = pd.DataFrame({"video": ["a", "a", "a", "c"], "onset": [10, 11, 52, 0], "offset": [20, 21, 80, 5]})
    result = spotting_f1(truth, predicted)
    # (10, 20) matches; (11, 21) would too but its ground truth is taken; (52, 80) IoU 9/31 < 0.5
    assert result["true_positives"] == 1 and result["precision"] == 0.25 and result["recall"] == pytest.approx(1 / 3)
    assert result["f1"] == pytest.approx(2 * 0.25 / 3 / (0.25 + 1 / 3))


def test_command_line(tmp_path, capsys):
    import json

    from dfer.cli import main
    from dfer.data.long_video import write_proposals

    videos = {f"v{i}": {"fps": 25.0, "frames": 1000, "split": "test", "final": [[100, 149, "happy"], [400, 409, "sad"]]}
              for i in range(3)}
    (tmp_path / "gt.json").write_text(json.dumps({"format": "dfer-long-video", "version": 1, "videos": videos}))
    proposals = pd.DataFrame({"video": ["v0", "v0", "v1", "ghost"], "t_start": [4.0, 16.0, 4.0, 0.0],
                              "t_end": [6.0, 16.4, 5.0, 1.0], "score": [0.9, 0.8, 0.7, 0.1]})
    write_proposals(tmp_path / "p.json", proposals)
    arguments = ["spot", "evaluate", "--ground-truth", str(tmp_path / "gt.json"), "--proposals", str(tmp_path / "p.json")]
    assert main([*arguments, "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert list(printed) == ["auc", "AR@1", "AR@5", "AR@10", "AR@50", "AR@100"]
    assert "have no ground truth" in captured.err and "have no proposals" in captured.err
    # v0's two segments are found exactly ([4, 6) and [16, 16.4)); v1's proposal [4, 5] has tIoU 0.5
    assert printed["AR@100"] == pytest.approx(100 * (2 + 0.1) / 6)
    assert main([*arguments, "--plot", str(tmp_path / "ar.png")]) == 0
    out = capsys.readouterr().out
    assert "MEGC F1" in out and "precision 1.0000, recall 0.5000" in out  # v1: frames 100-124, IoU 0.5 and (tmp_path / "ar.png").stat().st_size > 0


def test_no_proposal_reaching_the_f1_score_threshold_gives_an_empty_f1(tmp_path):
    import json

    from dfer.data.long_video import write_proposals
    from dfer.metrics.proposals import evaluate_files, proposal_frames

    videos = {"v0": {"fps": 25.0, "frames": 500, "split": "test", "final": [[100, 149, "happy"]]}}
    (tmp_path / "gt.json").write_text(json.dumps({"format": "dfer-long-video", "version": 1, "videos": videos}))
    write_proposals(tmp_path / "p.json", pd.DataFrame({"video": ["v0"], "t_start": [4.0], "t_end": [6.0], "score": [0.2]}))
    result = evaluate_files(tmp_path / "gt.json", tmp_path / "p.json", subset="test")  # once exit 3: str × float
    assert result.f1["predictions"] == 0 and result.f1["f1"] == 0 and result.scores.auc > 0
    empty = proposal_frames(pd.DataFrame({"video": pd.Series([], dtype="str"), "t_start": [], "t_end": []}),
                            pd.Series({"v0": 25.0}))
    assert empty.empty and list(empty.columns) == ["video", "t_start", "t_end", "onset", "offset"]


GOOD_TRUTH = {"database": {"v": {"fps": 25.0, "subset": "test", "annotations": [{"segment": [1.0, 2.0]}]}}}
GOOD_PROPOSALS = {"results": {"v": [{"segment": [1.0, 2.0], "score": 0.9}]}}


@pytest.mark.parametrize("truth, proposals, message", [
    (GOOD_TRUTH, {"results": [[1, 2]]}, "'results' must map each video"),
    (GOOD_TRUTH, {"results": "none"}, "'results' must map each video"),
    (GOOD_TRUTH, {"results": {"v": [{"segment": [1.0, 2.0], "score": None}]}}, "video 'v', proposal 0: expected"),
    (GOOD_TRUTH, {"results": {"v": [{"segment": [1.0, 2.0], "score": "high"}]}}, "video 'v', proposal 0: expected"),
    (GOOD_TRUTH, {"results": {"v": [{"segment": [3.0, 2.0], "score": 0.5}]}}, r"segment \[3.0, 2.0\] ends before"),
    (GOOD_TRUTH, {"results": {"v": [{"segment": [float("nan"), 2.0], "score": 0.5}]}}, "finite numbers"),
    (GOOD_TRUTH, {"results": {"v": {"segment": [1, 2]}}}, "video 'v': expected a list of proposals"),
    ({"database": {"v": {"annotations": [{"label": "happy"}]}}}, GOOD_PROPOSALS, "video 'v', annotation 0: expected"),
    ({"database": {"v": {"fps": 0, "annotations": [{"segment": [1.0, 2.0]}]}}}, GOOD_PROPOSALS,
     "video 'v': fps must be a positive number, got 0"),
    ({"database": {"v": {"annotations": [{"segment": [2.0, 1.0]}]}}}, GOOD_PROPOSALS, "ends before it starts"),
])
def test_bad_evaluation_inputs_are_refused_naming_the_entry(tmp_path, capsys, truth, proposals, message):
    import json
    import re

    from dfer.cli import main

    (tmp_path / "gt.json").write_text(json.dumps(truth))
    (tmp_path / "p.json").write_text(json.dumps(proposals))
    assert main(["spot", "evaluate", "--ground-truth", str(tmp_path / "gt.json"), "--proposals",
                 str(tmp_path / "p.json")]) == 2
    error = capsys.readouterr().err
    assert re.search(message, error) and error.count("\n") == 1, error


def test_max_avg_must_be_positive():
    truth = pd.DataFrame({"video": ["a"], "t_start": [0.0], "t_end": [1.0]})
    found = pd.DataFrame({"video": ["a"], "t_start": [0.0], "t_end": [1.0], "score": [1.0]})
    with pytest.raises(ValueError, match="max_avg .* must be positive, got 0"):
        average_recall(truth, found, max_avg=0)
