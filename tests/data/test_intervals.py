"""SDFE-LV's frame-level max-voting of several annotators' intervals."""

import numpy as np
import pytest

from dfer.data.intervals import aggregate_file, aggregate_intervals, frame_labels, max_vote, to_intervals
from dfer.errors import DatasetError


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


def test_agreement_is_the_frame_iou_of_two_annotators():
    # a marks frames 0–9 (anger), b 5–14 (disgust): 5 frames in common of 15 marked; no frame agrees in category
    _, agreement = aggregate_intervals({"a": [[0, 9, 1]], "b": [[5, 14, 2]]}, 20)
    assert agreement["mean_iou"] == pytest.approx(5 / 15) and agreement["mean_iou_same_category"] == 0.0
    _, agreement = aggregate_intervals({"a": [], "b": []}, 20)
    assert agreement["mean_iou"] == 1.0 == agreement["mean_iou_same_category"]  # both marked nothing: agreement


def test_categories_may_be_names():
    assert frame_labels([[0, 1, "happy"], [3, 3, "Surprise"], [4, 4, "5"]], 6).tolist() == [4, 4, 0, 6, 5, 0]
    with pytest.raises(ValueError, match="'neutral' is not an SDFE-LV expression"):
        frame_labels([[0, 1, "neutral"]], 5)
    with pytest.raises(ValueError, match="onset and offset must be frame numbers"):
        frame_labels([["a", 1, 2]], 5)


def test_a_dfer_long_video_file_gets_its_final_intervals():
    """The README's own example (names and codes mixed) comes back as the same file, finals filled in."""
    readme = {"format": "dfer-long-video", "version": 1,
              "videos": {"v1": {"fps": 25.0, "frames": 1500, "subject": "s01", "split": "train",
                                "annotators": {"a1": [[100, 149, "happy"], [400, 409, 2]], "a2": [[101, 150, 4]],
                                               "a3": [[99, 148, "happiness"]]}}}}
    result = aggregate_file(readme, "ann.json")
    assert result["format"] == "dfer-long-video" and result["videos"]["v1"]["fps"] == 25.0
    assert result["videos"]["v1"]["final"] == [[100, 149, 4]]  # frames at least 2 of the 3 marked happy and result["videos"]["v1"]["agreement"]["annotators"] == 3


@pytest.mark.parametrize("entry, message", [
    ({"annotations": {"a": [[0, 1, 1]]}}, "video 'v': 'frames'.*got None"),
    ({"frames": "ten", "annotations": {"a": [[0, 1, 1]]}}, "must be a positive integer"),
    ({"frames": 10}, "expected 'annotations'"),
    ({"frames": 10, "annotations": {"a": [[0, 12, 1]]}}, r"video 'v', annotator 'a', interval 0: \[0, 12\] is not inside"),
])
def test_bad_entries_name_the_video_and_annotator(entry, message):
    with pytest.raises(DatasetError, match=message):
        aggregate_file({"v": entry}, "ann.json")
