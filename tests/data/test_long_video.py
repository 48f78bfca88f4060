"""Long-video interval formats: ours, CAS(ME)^2, SAMM Long Videos, ActivityNet; bad intervals."""

import json

import pandas as pd
import pytest

from dfer.errors import DatasetError
from dfer.data.long_video import (COLUMNS, from_activitynet, ground_truth_segments, read_casme2, read_long_videos,
                                   read_proposals, read_samm_long, to_activitynet, write_long_videos,
                                   write_proposals)


def long_file(tmp_path, videos):
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"format": "dfer-long-video", "version": 1, "videos": videos}))
    return path


VIDEOS = {"v1": {"fps": 25.0, "frames": 500, "subject": "s01", "split": "train",
                 "annotators": {"a1": [[10, 40, "happy"], [100, 130, 6]], "a2": [[12, 38, "joy"]]},
                 "final": [[11, 39, "happy"]]},
          "v2": {"fps": 30.0, "frames": 90, "subject": "s02", "split": "test", "final": [[0, 89, 2]]}}


def test_our_format_round_trips(tmp_path):
    table = read_long_videos(long_file(tmp_path, VIDEOS))
    assert list(table.columns) == COLUMNS and len(table) == 5
    a1 = table[(table.video == "v1") & (table.annotator == "a1")]
    assert a1.expression.tolist() == ["happy", "surprise"]  # SDFE-LV code 6
    assert table[table.annotator == "a2"].expression.tolist() == ["happy"]  # a synonym
    write_long_videos(tmp_path / "again.json", table)
    again = read_long_videos(tmp_path / "again.json")
    pd.testing.assert_frame_equal(again[["video", "annotator", "onset", "offset", "expression"]],
                                  table[["video", "annotator", "onset", "offset", "expression"]])


def test_activitynet_round_trip_is_exact(tmp_path):
    table = read_long_videos(long_file(tmp_path, VIDEOS))
    data = to_activitynet(table)
    assert data["database"]["v1"]["annotations"][0]["segment"] == [11 / 25, 40 / 25]
    assert data["database"]["v2"]["duration"] == 3.0
    back = from_activitynet(json.loads(json.dumps(data)))
    final = table[table.annotator == "final"].reset_index(drop=True)
    assert back[["video", "onset", "offset", "frames"]].equals(final[["video", "onset", "offset", "frames"]])
    (tmp_path / "gt.json").write_text(json.dumps(data))
    segments = ground_truth_segments(tmp_path / "gt.json")
    assert segments.onset.tolist() == [11, 0] and segments.offset.tolist() == [39, 89]
    assert ground_truth_segments(long_file(tmp_path, VIDEOS), subset="test").video.tolist() == ["v2"]


@pytest.mark.parametrize("interval, message", [([40, 10, "happy"], "offset before onset"),
                                               ([10, 600, "happy"], "beyond the video's 500 frames"),
                                               ([10, 20, "smug"], "unknown category 'smug'")])
def test_bad_intervals_are_named(tmp_path, interval, message):
    videos = {"v1": {"fps": 25.0, "frames": 500, "annotators": {"a3": [[1, 2, "sad"], interval]}}}
    with pytest.raises(DatasetError, match=f"video 'v1', annotator 'a3', interval \\[{interval[0]}, "
                                           f"{interval[1]}\\]: {message}"):
        read_long_videos(long_file(tmp_path, videos))


def test_casme2_workbook(tmp_path):
    path = tmp_path / "CAS(ME)^2code_final.xlsx"
    codes = pd.DataFrame([[1, 15, "disgust1_1", 557, 572, 608, "4+7", "negative", "macro-expression", "disgust"],
                          [1, 15, "anger1_2", 120, 130, 0, "4", "anger", "micro-expression", "anger"]]).iloc[:, 1:]
    with pd.ExcelWriter(path) as writer:
        codes.to_excel(writer, sheet_name="codes", header=False, index=False)
        pd.DataFrame([[15, "s15"]]).to_excel(writer, sheet_name="subjects", header=False, index=False)
        pd.DataFrame([["disgust1", "0101"], ["anger1", "0401"]]).to_excel(writer, sheet_name="stimuli", header=False,
                                                                          index=False)
    table = read_casme2(path)
    assert table.video.tolist() == ["s15_0101", "s15_0401"]
    assert table.onset.tolist() == [556, 119] and table.offset.tolist() == [607, 129]  # offset 0 → apex
    assert table.kind.tolist() == ["macro", "micro"] and table.expression.tolist() == ["", "angry"]


def test_samm_long_workbook(tmp_path):
    path = tmp_path / "SAMM_LongVideos_V3_Release.xlsx"
    header = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset", "Duration", "Type",
              "Action Units", "Notes"]
    rows = [[6, "006_1_2", 1, 566, 648, 743, 178, "Macro", "R12", ""],
            [6, "006_1_3", 1, 1200, -1, 1250, 51, "Micro - 1/2", "R14", ""]]
    padding = [["SAMM long videos"] + [""] * 9] + [[""] * 10] * 9
    pd.DataFrame(padding + [header] + rows).to_excel(path, header=False, index=False)
    table = read_samm_long(path)
    assert table.video.tolist() == ["006_1", "006_1"] and table.subject.tolist() == ["006", "006"]
    assert table.onset.tolist() == [565, 1199] and table.apex.tolist() == [647, -1]
    assert table.kind.tolist() == ["macro", "micro"]


def test_proposal_files(tmp_path):
    proposals = pd.DataFrame({"video": ["a", "a", "b"], "t_start": [0.0, 1.0, 2.0], "t_end": [1.0, 2.5, 3.0],
                              "score": [0.9, 0.2, 0.5]})
    write_proposals(tmp_path / "p.json", proposals)
    assert read_proposals(tmp_path / "p.json").equals(proposals)
    (tmp_path / "bad.json").write_text(json.dumps({"results": {"a": [{"segment": [0, 1]}]}}))
    with pytest.raises(DatasetError, match="video 'a', proposal 0"):
        read_proposals(tmp_path / "bad.json")
    (tmp_path / "gt.json").write_text("{}")
    with pytest.raises(DatasetError, match="expected ActivityNet ground truth"):
        ground_truth_segments(tmp_path / "gt.json")


def test_subject_independent_splits(tmp_path):
    from dfer.cli import main

    videos = {f"v{i}": {"fps": 25.0, "frames": 100, "subject": f"s{i // 2}", "final": [[1, 5, "sad"]]} for i in range(20)}
    path = long_file(tmp_path, videos)
    assert main(["spot", "split", str(path), "--seed", "1"]) == 0
    table = read_long_videos(path).drop_duplicates("video")
    assert table.groupby("subject").split.nunique().eq(1).all()  # a subject never spans two splits
    assert table.split.value_counts().to_dict() == {"train": 12, "validation": 4, "test": 4}
