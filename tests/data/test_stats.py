import pandas as pd

from dfer import labels
from dfer.data.records import make_table
from dfer.data.stats import dataset_stats, write_stats


def clips():
    rows = [
        {"clip_id": "a", "dataset": "t", "label": labels.INDEX["happy"], "split": "train", "scene": "Action",
         "scenario": "WIS", "num_frames": 10},
        {"clip_id": "b", "dataset": "t", "label": labels.INDEX["happy"], "split": "test", "scene": "War",
         "scenario": "AI", "num_frames": 30},
        {"clip_id": "c", "dataset": "t", "label": labels.INDEX["fear"], "split": "train", "scene": "War",
         "scenario": "AI", "num_frames": 20},
    ]
    return make_table(rows)


def test_tables_count_classes_scenes_and_frames():
    stats = dataset_stats(clips())
    classes = stats["classes"]
    assert classes.loc["happy", "train"] == 1 and classes.loc["happy", "test"] == 1
    assert classes.loc["total", "total"] == 3
    assert stats["scenarios"].loc["AI", "total"] == 2
    assert stats["scenes"].loc["War", "train"] == 1
    assert stats["frames"].loc["total", "mean"] == 20
    assert stats["frames"].loc["train", "max"] == 20


def test_no_scene_tables_without_scenes():
    table = clips().assign(scene="", scenario="")
    assert set(dataset_stats(table)) == {"classes", "frames"}


def test_write_stats_csv_and_png(tmp_path):
    table = clips()
    written = write_stats(dataset_stats(table), table, tmp_path, title="t")
    names = sorted(p.name for p in written)
    assert names == ["classes.csv", "frames.csv", "scenarios.csv", "scenes.csv", "stats.png"]
    assert (tmp_path / "stats.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(tmp_path / "classes.csv", index_col=0).loc["fear", "total"] == 1


def test_classes_are_named_from_the_tables_vocabulary():
    table = make_table([{"clip_id": "a", "dataset": "mafw", "label": 9, "split": "test", "num_frames": 5},
                        {"clip_id": "b", "dataset": "mafw", "label": 3, "split": "test", "num_frames": 5}],
                       classes=labels.MAFW_EXPRESSIONS)
    classes = dataset_stats(table)["classes"]
    assert classes.loc["helplessness", "test"] == 1 and classes.loc["happiness", "test"] == 1
