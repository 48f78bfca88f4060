import numpy as np
import pytest

from dfer import labels
from dfer.data.caer import read_caer
from dfer.data.check import check_dataset
from dfer.data.formats import detect_format, read_dataset, reader_options
from dfer.errors import DatasetError, InputError
from tests.conftest import make_video

CLIPS = {  # path under the root -> frames; stems repeat across folders, as in the release
    "train/Anger/0001.avi": 12, "train/Anger/0002.avi": 8, "train/Happy/0001.avi": 10,
    "validation/Neutral/0001.avi": 12, "test/Disgust/0001.avi": 6, "test/Surprise/0001.avi": 12,
}


def build_caer(root):
    rng = np.random.default_rng(0)
    for relative, frames in CLIPS.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        make_video(root / relative, [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(frames)])
    return root


def test_three_splits_labels_and_frame_counts(tmp_path):
    table = read_caer(build_caer(tmp_path))
    assert table.attrs["problems"] == [] and table.attrs["classes"] == labels.EXPRESSIONS
    rows = table.set_index("clip_id")
    assert sorted(rows.index) == sorted(path.removesuffix(".avi") for path in CLIPS)
    assert rows.loc["train/Anger/0002", "split"] == "train"
    assert rows.loc["validation/Neutral/0001", "split"] == "val"
    assert rows.loc["test/Disgust/0001", "split"] == "test"
    assert rows.loc["train/Anger/0001", "label"] == labels.INDEX["angry"]
    assert rows.loc["test/Surprise/0001", "label"] == labels.INDEX["surprise"]
    assert dict(rows["num_frames"]) == {path.removesuffix(".avi"): n for path, n in CLIPS.items()}
    # whole frames: the video is the only source, of faces and of context alike
    assert rows["frames"].isna().all() and rows["scene_frames"].isna().all() and rows["video"].notna().all()


def test_detected_and_scenes_refused_with_the_way_to_get_them(tmp_path):
    build_caer(tmp_path)
    assert detect_format(tmp_path) == "caer"
    assert len(read_dataset(tmp_path, **reader_options("caer"))) == len(CLIPS)
    with pytest.raises(InputError, match="caer has no scene frames on disk.*dfer preprocess"):
        reader_options("caer", with_scene=True)


def test_afew_spelling_is_an_unknown_caer_folder(tmp_path):
    build_caer(tmp_path)
    (tmp_path / "test" / "Angry").mkdir()
    make_video(tmp_path / "test" / "Angry" / "0001.avi")
    with pytest.raises(DatasetError, match=r"test/Angry: unknown CAER emotion folder 'Angry'; expected one of Anger,"):
        read_caer(tmp_path)


def test_check_passes_then_reports_an_empty_video(tmp_path):
    build_caer(tmp_path)
    assert check_dataset(tmp_path, progress=False).ok
    (tmp_path / "validation" / "Neutral" / "0001.avi").write_bytes(b"")
    report = check_dataset(tmp_path, progress=False)
    [problem] = report.problems
    assert problem.path == str(tmp_path / "validation" / "Neutral" / "0001.avi")
    assert problem.message.startswith("cannot read as a video")
