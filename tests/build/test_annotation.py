"""The annotation workflow with a simulated crowd: plan → answers → QC → aggregation; bad imports."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.build.annotation import (VOCABULARY, AnnotationError, PlanOptions, aggregate_labels, import_answers,
                                   plan, quality_control, vocabulary)
from dfer.build.simulate import Crowd, worker_confusions

WORDS = vocabulary()
WORDS_OF = {e: [w for w, x in WORDS.items() if x == e and w != e] for e in labels.EXPRESSIONS}


@pytest.fixture()
def project(tmp_path):
    rng = np.random.default_rng(0)
    truth = pd.Series(rng.choice(labels.EXPRESSIONS, size=300), index=[f"c{i:04d}" for i in range(300)])
    clips = pd.DataFrame({"clip_id": truth.index, "path": [f"clips/{c}" for c in truth.index], "scene": "Talkshow",
                          "gold": ""})
    clips.loc[clips.index[:30], "gold"] = truth.iloc[:30].to_numpy()  # the professionals' gold pool
    workers = pd.DataFrame({"worker_id": [f"w{i}" for i in range(10)] + ["pro1"], "role": ["crowd"] * 10 + ["professional"]})
    database = tmp_path / "annotation.sqlite"
    tasks = plan(database, clips, workers, PlanOptions(group_size=40, gold_share=0.05, copies=3, seed=0))
    return database, truth, tasks


def crowd_answers(tasks, truth, seed=1):
    """Workers w0–w2 are spammers; the rest are good; answers use the fine-grained words."""
    rng = np.random.default_rng(seed)
    confusions, _ = worker_confusions(Crowd(workers=10, spammers=0.0, accuracy=(0.85, 0.95)), rng)
    clip_of = tasks.assign(clip=tasks.path.str.split("/").str[-1])
    rows = []
    for task in clip_of.itertuples():
        worker = int(task.worker[1:])
        if worker < 3:
            expression = rng.choice(labels.EXPRESSIONS)
        else:
            expression = labels.EXPRESSIONS[rng.choice(7, p=confusions[worker, labels.EXPRESSIONS.index(truth[task.clip])])]
        rows.append({"task": task.task, "worker": task.worker, "label": rng.choice(WORDS_OF[expression]),
                     "time": "2026-11-22T10:00:00"})
    return pd.DataFrame(rows)


def test_plan_mixes_gold_and_copies_each_group_to_distinct_workers(project):
    database, truth, tasks = project
    with sqlite3.connect(database) as connection:
        copies = pd.read_sql_query("SELECT * FROM copies", connection)
        joined = pd.read_sql_query("SELECT tasks.*, clips.gold FROM tasks JOIN clips USING (clip_id)", connection)
    assert copies.groupby("group_id").size().eq(3).all()
    assert copies.groupby("group_id").worker_id.nunique().eq(3).all()
    per_copy = joined.groupby("copy_id")
    assert per_copy.size().max() == 40 and per_copy.gold.count().eq(2).all()  # 5% of 40 gold
    assert joined.task_id.is_unique and "gold" not in tasks.columns
    assert set(joined[joined.gold.isna()].clip_id) == set(truth.index[30:])  # every clip once per copy


def test_qc_flags_spammers_and_aggregation_recovers_the_truth(project):
    database, truth, tasks = project
    assert import_answers(database, crowd_answers(tasks, truth)) == len(tasks)
    per_copy, per_worker = quality_control(database)
    spammer_copies = per_copy[per_copy.worker_id.isin(["w0", "w1", "w2"])]
    assert (spammer_copies.decision != "accept").mean() > 0.8
    assert (per_copy[~per_copy.worker_id.isin(["w0", "w1", "w2"])].decision != "unacceptable").mean() > 0.8
    assert set(per_worker.columns) >= {"worker_id", "rate", "accept", "improper", "unacceptable"}
    # professionals relabel the clips of improper copies (weight 2 in the vote)
    with sqlite3.connect(database) as connection:
        improper = pd.read_sql_query(
            "SELECT tasks.task_id, tasks.clip_id FROM tasks JOIN decisions USING (copy_id) "
            "JOIN clips USING (clip_id) WHERE decision = 'improper' AND clips.gold IS NULL", connection)
    professional = pd.DataFrame({"task": improper.task_id, "worker": "pro1", "label": truth[improper.clip_id].to_numpy()})
    import_answers(database, professional)
    result = aggregate_labels(database, "wta").set_index("clip_id")
    items = truth.index[30:]
    labelled = result.index.intersection(items)
    accuracy = (result.label[labelled] == truth[labelled]).mean()
    print(f"labelled {len(labelled)} of {len(items)}, accuracy {accuracy:.3f}")
    assert accuracy > 0.85 and len(labelled) > 0.8 * len(items), (accuracy, len(labelled))
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM labels WHERE method = 'wta'").fetchone()[0] == len(result)


def test_a_bad_import_names_rows_and_stores_nothing(project):
    database, truth, tasks = project
    good = crowd_answers(tasks, truth).iloc[:5]
    import_answers(database, good)
    first = tasks.iloc[10]
    bad = pd.DataFrame([
        {"task": "nope", "worker": first.worker, "label": "joy"},  # row 2: unknown task
        {"task": first.task, "worker": "ghost", "label": "joy"},  # row 3: unknown worker
        {"task": first.task, "worker": first.worker, "label": "ecstasy"},  # row 4: not in vocabulary
        {"task": good.task.iloc[0], "worker": good.worker.iloc[0], "label": "joy"},  # row 5: already stored
        {"task": first.task, "worker": [w for w in tasks.worker.unique() if w != first.worker][0], "label": "joy"},
        {"task": tasks.task.iloc[11], "worker": tasks.worker.iloc[11], "label": "PASS"},  # a good row
    ])
    with pytest.raises(AnnotationError) as error:
        import_answers(database, bad, source="batch2.csv")
    message = str(error.value)
    for expected in ("row 2: unknown task", "row 3: unknown worker", "row 4: label 'ecstasy'",
                     "row 5: duplicate answer", "row 6: task", "batch2.csv"):
        assert expected in message
    assert "row 7" not in message
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 5


def test_vocabulary_has_26_words_and_pass():
    assert len(pd.read_csv(VOCABULARY)) == 26 and set(pd.read_csv(VOCABULARY).expression) == set(labels.EXPRESSIONS)
    assert WORDS["pass"] == "PASS" and WORDS["rage"] == "angry" and WORDS["happy"] == "happy"
