import shutil
from pathlib import Path

import numpy as np
import pytest

from dfer import labels
from dfer.data.check import check_dataset
from dfer.data.formats import detect_format, read_dataset, reader_options
from dfer.data.mafw import read_mafw, shared_classes, split_file
from dfer.errors import DatasetError, InputError
from tests.conftest import make_video, write_frames

CLIPS = {  # clip -> (class, fold whose test set holds it, frames)
    "00025": ("anger", 1, 12), "00108": ("contempt", 1, 8), "00152": ("happiness", 2, 10),
    "00210": ("anxiety", 3, 12), "03747": ("neutral", 4, 6), "09932": ("disappointment", 5, 12),
    "10045": ("surprise", 5, 9),
}


def build_mafw(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for key, (_, _, frames) in CLIPS.items():
        (root / "data" / "clips").mkdir(parents=True, exist_ok=True)
        make_video(root / "data" / "clips" / f"{key}.mp4",
                   [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(frames)])
        write_frames(root / "data" / "frames" / key, [f"{k}.jpg" for k in range(1, frames + 1)])
    for fold in range(1, 6):
        for split in ("train", "test"):
            lines = [f"{key}.mp4 {name}" for key, (name, f, _) in CLIPS.items() if (f == fold) == (split == "test")]
            path = split_file(root, split, fold)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n")
    return root


def test_all_clips_with_their_folds_and_mafw_labels(tmp_path):
    table = read_mafw(build_mafw(tmp_path))
    assert table.attrs["problems"] == [] and table.attrs["classes"] == labels.MAFW_EXPRESSIONS
    rows = table.set_index("clip_id")
    assert list(rows.index) == sorted(CLIPS)
    assert dict(rows["fold"]) == {key: fold for key, (_, fold, _) in CLIPS.items()}
    assert dict(rows["label"]) == {key: labels.MAFW_INDEX[name] for key, (name, _, _) in CLIPS.items()}
    assert rows.loc["00108", "label"] == 7 and rows.loc["09932", "label"] == 10  # contempt, disappointment
    assert dict(rows["num_frames"]) == {key: n for key, (_, _, n) in CLIPS.items()}
    assert set(rows["split"]) == {""} and rows["video"].notna().all()


def test_a_fold_and_the_frame_folders(tmp_path):
    build_mafw(tmp_path)
    clips = read_mafw(tmp_path, fold=5)
    assert dict(zip(clips["clip_id"], clips["split"])) == {
        key: "test" if fold == 5 else "train" for key, (_, fold, _) in CLIPS.items()}
    frames = read_mafw(tmp_path, fold=5, source="frames")
    assert list(frames["num_frames"]) == list(clips["num_frames"])
    first = frames.set_index("clip_id").loc["00025", "frames"]
    assert [Path(p).name for p in first][8:11] == ["9.jpg", "10.jpg", "11.jpg"]
    assert detect_format(tmp_path) == "mafw"
    assert reader_options("mafw", fold=2) == {"fold": 2, "source": "clips"}
    table = read_dataset(tmp_path, **reader_options("mafw", fold=2))
    assert table.attrs["classes"] == labels.MAFW_EXPRESSIONS and set(table["split"]) == {"train", "test"}
    with pytest.raises(InputError, match="MAFW fold"):
        read_mafw(tmp_path, fold=6)


@pytest.mark.parametrize("line, message", [
    ("00999.mp4,anger", r"expected '<clip>\.mp4 <class>', found '00999\.mp4,anger'"),
    ("00999.mp4 angry", "unknown MAFW label 'angry'; expected one of anger, disgust"),
    ("clip_7.mp4 anger", "clip name 'clip_7.mp4' is not a numbered clip"),
    ("00025.mp4 anger", "clip 00025 listed twice"),
])
def test_bad_split_rows_name_file_and_row(tmp_path, line, message):
    build_mafw(tmp_path)
    path = split_file(tmp_path, "test", 1)
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(DatasetError, match=rf"set_1/test\.txt, row 3: {message}"):
        read_mafw(tmp_path)


def test_overlaps_between_files_are_named(tmp_path):
    build_mafw(tmp_path)
    test2 = split_file(tmp_path, "test", 2)
    test2.write_text(test2.read_text() + "00025.mp4 anger\n")
    train1 = split_file(tmp_path, "train", 1)
    train1.write_text(train1.read_text() + "00108.mp4 contempt\n")
    table = read_mafw(tmp_path, fold=1, errors="collect")
    assert [str(p) for p in table.attrs["problems"]] == [
        f"{test2}, row 2: clip 00025 is also in the test set of fold 1",
        f"{train1}, row 6: clip 00108 is in both train and test of fold 1",
    ]


def test_shared_classes_keep_the_seven_canonical_ones(tmp_path):
    table = read_mafw(build_mafw(tmp_path))
    shared = shared_classes(table)
    assert list(shared["clip_id"]) == ["00025", "00152", "03747", "10045"]  # contempt, anxiety, disappointment go
    assert list(shared["label"]) == [labels.INDEX[n] for n in ("angry", "happy", "neutral", "surprise")]
    assert shared.attrs["classes"] == labels.EXPRESSIONS and table.attrs["classes"] == labels.MAFW_EXPRESSIONS
    with pytest.raises(InputError, match="expects a MAFW table"):
        shared_classes(shared)


def test_check_covers_clips_and_frames(tmp_path):
    build_mafw(tmp_path)
    report = check_dataset(tmp_path, progress=False)
    assert report.ok and report.format == "mafw" and report.clips == len(CLIPS)
    assert report.images_checked == len(CLIPS) + sum(n for _, _, n in CLIPS.values())
    (tmp_path / "data" / "clips" / "00210.mp4").write_bytes(b"not a video")
    (tmp_path / "data" / "frames" / "00152" / "3.jpg").write_bytes(b"not a jpeg")
    shutil.rmtree(tmp_path / "data" / "frames" / "03747")
    text = "\n".join(str(p) for p in check_dataset(tmp_path, progress=False).problems)
    assert f"{tmp_path / 'data' / 'clips' / '00210.mp4'}: cannot read as a video" in text
    assert f"{tmp_path / 'data' / 'frames' / '00152' / '3.jpg'}: unreadable image" in text
    assert f"{tmp_path / 'data' / 'frames' / '03747'}: frame folder of clip 03747 not found" in text
    assert len(text.splitlines()) == 3
