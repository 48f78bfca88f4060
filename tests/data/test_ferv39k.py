from pathlib import Path

import pytest

from dfer import labels
from dfer.data.ferv39k import SETUPS, cross_scenario, read_ferv39k, select_setup
from dfer.errors import DatasetError
from tests.conftest import write_frames

CLIPS = {  # clip id -> split
    "Action/Sad/0001": "train", "Action/Happy/0001": "test", "DailyLife/Angry/0001": "train",
    "DailyLife/Angry/0002": "test", "War/Fear/0001": "train", "Interview/Neutral/0010": "test",
}


def build_ferv39k(root: Path):
    for key in CLIPS:
        write_frames(root / "2_ClipsforFaceCrop" / key, [f"{k}.jpg" for k in range(1, 11)])
        write_frames(root / "3_ClipsforScenImages" / key, [f"{k}.jpg" for k in range(1, 11)])
    setups = root / "4_setups" / "All_scenes"
    setups.mkdir(parents=True)
    for split in ("train", "test"):
        lines = [f"{key} {key.split('/')[1]}" for key, s in CLIPS.items() if s == split]
        (setups / f"{split}_All.csv").write_text("\n".join(lines) + "\n")


def test_reads_headerless_split_files(tmp_path):
    build_ferv39k(tmp_path)
    table = read_ferv39k(tmp_path, with_scene=True)
    assert len(table) == len(CLIPS)  # no line lost to a phantom header
    assert dict(zip(table["clip_id"], table["split"])) == CLIPS
    row = table.set_index("clip_id").loc["Interview/Neutral/0010"]
    assert row["label"] == labels.INDEX["neutral"]
    assert (row["scene"], row["scenario"]) == ("Interview", "SIA")
    assert [Path(p).name for p in row["frames"]][:3] == ["1.jpg", "2.jpg", "3.jpg"]
    assert Path(row["frames"][-1]).name == "10.jpg" and row["num_frames"] == 10
    assert len(row["scene_frames"]) == 10


def test_27_setups_and_cross_scenario(tmp_path):
    build_ferv39k(tmp_path)
    table = read_ferv39k(tmp_path)
    assert len(SETUPS) == 27
    assert set(select_setup(table, "DL")["scene"]) == {"DailyLife"}
    assert set(select_setup(table, "Action")["clip_id"]) == {"Action/Sad/0001", "Action/Happy/0001"}
    assert len(read_ferv39k(tmp_path, setup="AI")) == 1
    cross = cross_scenario(table, "DL", "WIS")
    assert set(zip(cross["clip_id"], cross["split"])) == {
        ("DailyLife/Angry/0001", "train"), ("Action/Happy/0001", "test")}
    with pytest.raises(ValueError, match="unknown FERV39k setup"):
        select_setup(table, "Daily-Life")
    with pytest.raises(ValueError, match="unknown scenario"):
        cross_scenario(table, "DL", "XX")


@pytest.mark.parametrize("line, message", [
    ("Action/Sad/0001,Sad", "expected '<Scene>/<Emotion>/<id> <Emotion>'"),
    ("Action/Sad/0001 Sadness", "unknown FERV39k label"),
    ("Action/Sad/0001 Happy", "label .Happy. disagrees with the emotion folder"),
    ("Cooking/Sad/0001 Sad", "unknown scene 'Cooking'"),
])
def test_bad_split_lines_name_file_and_row(tmp_path, line, message):
    build_ferv39k(tmp_path)
    path = tmp_path / "4_setups" / "All_scenes" / "train_All.csv"
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(DatasetError, match=rf"train_All\.csv, row 4: {message}"):
        read_ferv39k(tmp_path)


def test_clip_in_train_and_test(tmp_path):
    build_ferv39k(tmp_path)
    path = tmp_path / "4_setups" / "All_scenes" / "test_All.csv"
    path.write_text(path.read_text() + "Action/Sad/0001 Sad\n")
    with pytest.raises(DatasetError, match="already listed in the train split"):
        read_ferv39k(tmp_path)


def test_missing_face_folder(tmp_path):
    build_ferv39k(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "2_ClipsforFaceCrop" / "War" / "Fear" / "0001")
    table = read_ferv39k(tmp_path, errors="collect")
    assert len(table) == len(CLIPS) - 1
    [problem] = table.attrs["problems"]
    assert "War/Fear/0001" in problem.path and "train_All.csv, row 3" in problem.message
