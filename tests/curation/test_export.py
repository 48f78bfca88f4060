"""End to end: fixture videos → candidates → simulated annotation → exported dataset → readers and
``dfer data check``."""

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.curation.annotation import PlanOptions, aggregate_labels, import_answers, plan, quality_control, reassign
from dfer.cli import main
from dfer.data.dfew import read_dfew, read_votes
from dfer.data.ferv39k import read_ferv39k
from dfer.data.records import ProblemLog
from dfer.errors import DatasetError

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


def answer(tasks, truth, spammer="s1"):
    """Good workers give the true word; the spammer always a wrong expression."""
    clip = tasks.path.str.extract(r"([^/]+)\.mp4$")[0]
    wrong = [labels.EXPRESSIONS[(labels.EXPRESSIONS.index(truth[c]) + 1) % 7] for c in clip]
    return pd.DataFrame({"task": tasks.task, "worker": tasks.worker,
                         "label": np.where(tasks.worker == spammer, wrong, clip.map(truth))})


@pytest.fixture(scope="module")
def annotated(built, tmp_path_factory):
    _, out, _ = built
    folder = tmp_path_factory.mktemp("annotate")
    candidates = pd.read_csv(out / "candidates.csv", keep_default_na=False)
    truth = dict(zip(candidates.clip_id, candidates.predicted))  # pretend the model was right
    clips = candidates[["clip_id", "path", "scene"]].assign(gold="")
    clips.loc[0, "gold"] = truth[clips.clip_id[0]]
    workers = pd.DataFrame({"worker_id": ["g1", "g2", "g3", "s1", "pro1"],
                            "role": ["crowd"] * 4 + ["professional"]})
    database = folder / "annotation.sqlite"
    tasks = plan(database, clips, workers, PlanOptions(group_size=6, copies=3, seed=1))
    import_answers(database, answer(tasks, truth))
    per_copy, _ = quality_control(database)
    if (per_copy.worker_id == "s1").any():  # the spammer's copy goes back to the crowd
        assert per_copy.set_index("worker_id").decision["s1"] == "unacceptable"
        new = reassign(database)
        assert set(new.worker) == {"g1", "g2", "g3"} - set(per_copy.worker_id)
        import_answers(database, answer(new, truth))
        per_copy, _ = quality_control(database)
    assert set(per_copy.decision) == {"accept", "unacceptable"} or set(per_copy.decision) == {"accept"}
    result = aggregate_labels(database, "wta").set_index("clip_id")
    items = candidates.clip_id[1:]
    assert (result.label[items] == items.map(truth).to_numpy()).all()
    candidates.to_csv(folder / "candidates.csv", index=False)
    return database, folder, truth, candidates


def test_ferv39k_export_reads_back_and_checks(annotated, capsys):
    database, folder, truth, candidates = annotated
    root = folder / "ferv39k"
    assert main(["annotate", "export", "--db", str(database), "--candidates", str(folder / "candidates.csv"),
                 "--out", str(root), "--format", "ferv39k"]) == 0
    table = read_ferv39k(root, with_scene=True)
    assert len(table) == len(candidates) - 1  # the gold item is not part of the dataset
    for row in table.itertuples():
        clip_id = row.clip_id.split("/")[-1]
        assert labels.EXPRESSIONS[row.label] == truth[clip_id]
        assert row.scene == candidates.set_index("clip_id").scene[clip_id]
        assert row.num_frames == len(row.scene_frames) > 0
    assert set(table.split) == {"train", "test"}
    assert main(["data", "check", str(root)]) == 0
    assert not root.with_name("ferv39k.partial").exists()
    assert main(["annotate", "export", "--db", str(database), "--candidates", str(folder / "candidates.csv"),
                 "--out", str(root)]) == 2  # never over an existing dataset
    assert "already exists" in capsys.readouterr().err


def test_dfew_export_has_votes_folds_and_checks(annotated):
    database, folder, truth, candidates = annotated
    root = folder / "dfew"
    assert main(["annotate", "export", "--db", str(database), "--candidates", str(folder / "candidates.csv"),
                 "--out", str(root), "--format", "dfew"]) == 0
    table = read_dfew(root)
    ids = pd.read_csv(root / "Annotation" / "clip_ids.csv", dtype=str).set_index("video_name").clip_id
    assert len(table) == len(candidates) - 1 and table.clip_id.is_unique
    votes = read_votes(root, ProblemLog())
    for row in table.itertuples():
        assert labels.EXPRESSIONS[row.label] == truth[ids[row.clip_id]]
        counts = votes[row.clip_id]
        assert counts[row.label] == sum(counts) == 3  # three accepted crowd copies agreed
    folds = [set(read_dfew(root, fold=fold).query("split == 'test'").clip_id) for fold in range(1, 6)]
    assert set().union(*folds) == set(table.clip_id) and sum(map(len, folds)) == len(table)
    assert main(["data", "check", str(root)]) == 0


def test_export_refuses_scenes_outside_ferv39k(annotated, tmp_path):
    database, folder, _, candidates = annotated
    odd = candidates.assign(scene="Kitchen")
    with pytest.raises(DatasetError, match="22 scenes.*'Kitchen'"):
        from dfer.curation.export import export_dataset

        export_dataset(database, odd, tmp_path / "x")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.partial").exists()
