from pathlib import Path

import pandas as pd
import pytest

from dfer import labels
from dfer.data.dfew import read_dfew
from dfer.errors import DatasetError
from tests.conftest import write_frames


def build_dfew(root: Path, *, test_padded=True):
    """Five single-label clips over 5 folds; clip 3's frames include _00010 to test numeric order."""
    clips = {1: 1, 2: 2, 3: 7, 4: 3, 5: 4}  # id -> DFEW label
    for clip, _ in clips.items():
        key = f"{clip:05d}"
        count = 12 if clip == 3 else 3
        write_frames(root / "Clip" / "clip_224x224" / key, [f"{key}_{k:05d}.jpg" for k in range(1, count + 1)])
        write_frames(root / "Clip" / "clip_224x224_16f" / key, [f"{k}.jpg" for k in range(1, 17)])
    for fold in range(1, 6):
        for split in ("train", "test"):
            folder = root / "EmoLabel_DataSplit" / f"{split}(single-labeled)"
            folder.mkdir(parents=True, exist_ok=True)
            members = [c for c in clips if (c == fold) == (split == "test")]
            lines = ["video_name,label"] + [
                f"{(f'{c:05d}' if test_padded and split == 'test' else c)},{clips[c]}" for c in members
            ]
            (folder / f"set_{fold}.csv").write_text("\n".join(lines) + "\n")
    return clips


def test_reads_fold_with_unpadded_ids(tmp_path):
    clips = build_dfew(tmp_path, test_padded=False)
    table = read_dfew(tmp_path, fold=2)
    assert list(table["clip_id"]) == ["00001", "00002", "00003", "00004", "00005"]
    assert dict(zip(table["clip_id"], table["split"])) == {
        "00001": "train", "00002": "test", "00003": "train", "00004": "train", "00005": "train"}
    assert list(table["fold"]) == [1, 2, 3, 4, 5]
    for key, label in zip(table["clip_id"], table["label"]):
        assert label == labels.from_dfew(clips[int(key)])
    assert table.loc[table["clip_id"] == "00003", "label"].item() == labels.INDEX["fear"]


def test_frame_order_is_numeric_and_counts_come_from_disk(tmp_path):
    build_dfew(tmp_path)
    table = read_dfew(tmp_path, fold=1, source="clip_224x224_16f")
    frames = table.loc[0, "frames"]
    assert [Path(p).name for p in frames] == [f"{k}.jpg" for k in range(1, 17)]
    table = read_dfew(tmp_path, fold=1)
    row = table[table["clip_id"] == "00003"].iloc[0]
    assert row["num_frames"] == 12
    assert Path(row["frames"][-1]).name == "00003_00012.jpg"


def test_all_clips_without_fold(tmp_path):
    build_dfew(tmp_path)
    table = read_dfew(tmp_path)
    assert len(table) == 5 and set(table["split"]) == {""}


def test_votes_from_annotation_workbook(tmp_path):
    build_dfew(tmp_path)
    (tmp_path / "Annotation").mkdir()
    sheet = pd.DataFrame({"video_name": [1, 2], "happy": [8, 0], "sad": [1, 9], "neutral": [1, 1],
                          "angry": [0, 0], "surprise": [0, 0], "disgust": [0, 0], "fear": [0, 0]})
    sheet.to_excel(tmp_path / "Annotation" / "annotation.xlsx", index=False)
    table = read_dfew(tmp_path, fold=1)
    votes = dict(zip(table["clip_id"], table["votes"]))
    assert votes["00001"][labels.INDEX["happy"]] == 8
    assert votes["00002"][labels.INDEX["sad"]] == 9
    assert votes["00003"] is None


def test_label_out_of_range_names_file_and_row(tmp_path):
    build_dfew(tmp_path)
    path = tmp_path / "EmoLabel_DataSplit" / "test(single-labeled)" / "set_3.csv"
    path.write_text("video_name,label\n00003,9\n")
    with pytest.raises(DatasetError, match=r"set_3\.csv, row 2: DFEW label '9' out of range"):
        read_dfew(tmp_path, fold=1)


def test_missing_header_is_an_error(tmp_path):
    build_dfew(tmp_path)
    path = tmp_path / "EmoLabel_DataSplit" / "test(single-labeled)" / "set_1.csv"
    path.write_text("00001,1\n")
    with pytest.raises(DatasetError, match="set_1.csv, row 1: expected the header"):
        read_dfew(tmp_path)


def test_split_entry_not_on_disk(tmp_path):
    build_dfew(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "Clip" / "clip_224x224" / "00004")
    with pytest.raises(DatasetError, match="00004: frame folder of clip 00004 not found"):
        read_dfew(tmp_path, fold=1)
    table = read_dfew(tmp_path, fold=1, errors="collect")
    assert len(table) == 4 and len(table.attrs["problems"]) == 1


def test_clip_in_train_and_test(tmp_path):
    build_dfew(tmp_path)
    path = tmp_path / "EmoLabel_DataSplit" / "train(single-labeled)" / "set_1.csv"
    path.write_text(path.read_text() + "1,1\n")
    with pytest.raises(DatasetError, match="in both train and test of fold 1"):
        read_dfew(tmp_path, fold=1)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="fold"):
        read_dfew(tmp_path, fold=6)
    with pytest.raises(ValueError, match="source"):
        read_dfew(tmp_path, source="faces")
    with pytest.raises(DatasetError, match="not a DFEW root"):
        read_dfew(tmp_path)
