import pandas as pd
import pytest

from dfer.data.records import carve_validation, list_frames, make_table, natural_key
from tests.conftest import write_frames


def test_natural_order():
    names = ["10.jpg", "2.jpg", "1.jpg", "a_00011.jpg", "a_00009.jpg"]
    assert sorted(names, key=natural_key) == ["1.jpg", "2.jpg", "10.jpg", "a_00009.jpg", "a_00011.jpg"]


def test_list_frames_ignores_other_files(tmp_path):
    write_frames(tmp_path, ["3.jpg", "12.jpg"])
    (tmp_path / "notes.txt").write_text("x")
    assert [p.split("/")[-1] for p in list_frames(tmp_path)] == ["3.jpg", "12.jpg"]
    assert list_frames(tmp_path / "missing") == ()


def table(n_per_class=(30, 30, 8, 2)):
    rows = []
    for label, count in enumerate(n_per_class):
        rows += [{"clip_id": f"{label}-{i}", "dataset": "t", "label": label, "split": "train"} for i in range(count)]
    rows += [{"clip_id": f"test-{i}", "dataset": "t", "label": i % 4, "split": "test"} for i in range(12)]
    return make_table(rows)


def test_validation_is_stratified_seeded_and_never_touches_test():
    clips = table()
    carved = carve_validation(clips, fraction=0.2, seed=3)
    assert (carved.loc[clips["split"] == "test", "split"] == "test").all()
    val = carved[carved["split"] == "val"]
    assert len(val) == round(0.2 * 70)
    assert set(val["label"]) >= {0, 1, 2}
    counts = val["label"].value_counts()
    assert abs(counts[0] - 6) <= 1 and abs(counts[1] - 6) <= 1
    pd.testing.assert_frame_equal(carved, carve_validation(clips, fraction=0.2, seed=3))
    record = carved.attrs["validation"]
    assert (record["fraction"], record["seed"], record["stratified_by"]) == (0.2, 3, "label")
    assert record["clip_ids"] == sorted(val["clip_id"])
    assert not carved["split"].equals(carve_validation(clips, fraction=0.2, seed=4)["split"])


def test_validation_rejects_bad_fraction():
    with pytest.raises(ValueError, match="fraction"):
        carve_validation(table(), fraction=1.5)
