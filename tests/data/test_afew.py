import shutil

import numpy as np
import pytest

from dfer import labels
from dfer.data.afew import read_afew
from dfer.data.check import check_dataset
from dfer.data.formats import detect_format, read_dataset
from dfer.errors import DatasetError
from tests.conftest import make_truncated_mp4, make_video

CLIPS = {  # path under the root -> frames
    "Train/Angry/000046280.avi": 12, "Train/Happy/000147120.avi": 9, "Train/Neutral/000322400.avi": 12,
    "Val/Sad/000522840.avi": 7, "Val/Surprise/001203360.avi": 12,
}


def build_afew(root):
    rng = np.random.default_rng(0)
    for relative, frames in CLIPS.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        make_video(root / relative, [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(frames)])
    (root / "Test").mkdir()  # unlabelled in the release: not read
    make_video(root / "Test" / "000000001.avi")
    (root / "Train" / "Angry" / "notes.txt").write_text("not a clip\n")
    return root


def test_train_and_val_become_train_and_test(tmp_path):
    table = read_afew(build_afew(tmp_path))
    assert table.attrs["problems"] == [] and table.attrs["classes"] == labels.EXPRESSIONS
    rows = table.set_index("clip_id")
    assert list(rows.index) == [path.removesuffix(".avi") for path in CLIPS]
    assert dict(rows["split"]) == {key: "train" if key.startswith("Train") else "test" for key in rows.index}
    assert rows.loc["Val/Sad/000522840", "label"] == labels.INDEX["sad"]
    assert rows.loc["Train/Happy/000147120", "label"] == labels.INDEX["happy"]
    assert dict(rows["num_frames"]) == {path.removesuffix(".avi"): n for path, n in CLIPS.items()}
    assert rows["video"].map(lambda v: v.endswith(".avi")).all() and rows["frames"].isna().all()
    assert set(rows["dataset"]) == {"afew"}


def test_detected_and_read_through_read_dataset(tmp_path):
    build_afew(tmp_path)
    assert detect_format(tmp_path) == "afew"
    assert len(read_dataset(tmp_path)) == len(CLIPS)


def test_unknown_emotion_folder_is_named(tmp_path):
    build_afew(tmp_path)
    (tmp_path / "Train" / "Happiness").mkdir()
    make_video(tmp_path / "Train" / "Happiness" / "000000002.avi")
    with pytest.raises(DatasetError, match=r"Train/Happiness: unknown AFEW emotion folder 'Happiness'; "
                                           r"expected one of Angry, Disgust"):
        read_afew(tmp_path)


def test_missing_split_folder_and_stray_video(tmp_path):
    build_afew(tmp_path)
    shutil.rmtree(tmp_path / "Val")
    shutil.copy(tmp_path / "Train" / "Angry" / "000046280.avi", tmp_path / "Train" / "loose.avi")
    table = read_afew(tmp_path, errors="collect")
    assert sorted(str(p) for p in table.attrs["problems"]) == [
        f"{tmp_path / 'Train' / 'loose.avi'}: video outside an emotion folder",
        f"{tmp_path / 'Val'}: test split folder not found",
    ]
    assert set(table["split"]) == {"train"}


def test_check_passes_then_reports_a_broken_and_a_truncated_video(tmp_path):
    build_afew(tmp_path)
    report = check_dataset(tmp_path, progress=False)
    assert report.ok and report.format == "afew" and report.clips == len(CLIPS)
    (tmp_path / "Train" / "Angry" / "000046280.avi").write_bytes(b"not a video")
    make_truncated_mp4(tmp_path / "Val" / "Sad" / "000522840.avi")
    report = check_dataset(tmp_path, progress=False)
    text = "\n".join(map(str, report.problems))
    assert f"{tmp_path / 'Train' / 'Angry' / '000046280.avi'}: cannot read as a video" in text
    assert f"{tmp_path / 'Val' / 'Sad' / '000522840.avi'}: truncated" in text
    assert len(report.problems) == 2 and report.clips == len(CLIPS) - 1
