"""The annotation workflow with a simulated crowd: plan → answers → QC → aggregation; bad imports."""

import sqlite3

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.curation.agreement import chapman
from dfer.curation.annotation import (VOCABULARY, dump, group_report, AnnotationError, PlanOptions, aggregate_labels, error_estimates,
                                   import_answers, plan, quality_control, reassign, relabel_tasks, vocabulary)
from dfer.curation.simulate import Crowd, worker_confusions

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


def test_unacceptable_copies_go_back_to_the_crowd_once(project):
    database, truth, tasks = project
    import_answers(database, crowd_answers(tasks, truth))
    per_copy, _ = quality_control(database)
    bad = per_copy[per_copy.decision == "unacceptable"]
    assert len(bad) > 0
    new = reassign(database, seed=3)
    assert new["copy"].nunique() == len(bad) and not set(new.task) & set(tasks.task)
    with sqlite3.connect(database) as connection:
        copies = pd.read_sql_query("SELECT * FROM copies", connection)
    replaced = copies.dropna(subset=["replaces"])
    assert set(replaced.replaces) == set(bad.copy_id)
    for copy in replaced.itertuples():  # a worker who had no copy of the group, and the same clips
        others = copies[(copies.group_id == copy.group_id) & (copies.copy_id != copy.copy_id)]
        assert copy.worker_id not in set(others.worker_id)
        assert sorted(new[new["copy"] == copy.copy_id].path) == sorted(tasks[tasks["copy"] == copy.replaces].path)
    assert reassign(database).empty  # each copy is replaced once
    # the new copies are answered by good workers and replace the spam in the labels
    import_answers(database, crowd_answers(new, truth, seed=2).assign(label=lambda t: [
        truth[p.split("/")[-1]] for p in new.path]))
    again, _ = quality_control(database)
    assert (again[again.copy_id.isin(replaced.copy_id)].decision == "accept").all()


def test_improper_copies_go_to_professionals(project):
    database, truth, tasks = project
    import_answers(database, crowd_answers(tasks, truth))
    per_copy, _ = quality_control(database)
    relabel = relabel_tasks(database)
    improper = set(per_copy[per_copy.decision == "improper"].copy_id)
    assert set(tasks.set_index("task")["copy"][relabel.task]) == improper
    assert not relabel.clip_id.isin(truth.index[:30]).any()  # gold items are not relabelled
    import_answers(database, pd.DataFrame({"task": relabel.task[:5], "worker": "pro1", "label": "happy"}))
    assert len(relabel_tasks(database)) == len(relabel) - 5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_capture_recapture_estimates_the_bad_copies(tmp_path, seed):
    """30 workers, 9 of them spammers, 1200 clips in groups of 40 (2 gold each), 3 copies."""
    rng = np.random.default_rng(seed)
    truth = pd.Series(rng.choice(labels.EXPRESSIONS, size=1200), index=[f"c{i:04d}" for i in range(1200)])
    clips = pd.DataFrame({"clip_id": truth.index, "path": [f"clips/{c}" for c in truth.index], "gold": ""})
    clips.loc[clips.index[:60], "gold"] = truth.iloc[:60].to_numpy()
    workers = pd.DataFrame({"worker_id": [f"w{i}" for i in range(30)], "role": "crowd"})
    database = tmp_path / "a.sqlite"
    tasks = plan(database, clips, workers, PlanOptions(group_size=40, copies=3, seed=seed))
    spammers = {f"w{i}" for i in range(9)}
    confusions, _ = worker_confusions(Crowd(workers=30, spammers=0.0, accuracy=(0.85, 0.95)), rng)
    clip = tasks.path.str.split("/").str[-1]
    answers = [rng.choice(labels.EXPRESSIONS) if worker in spammers else labels.EXPRESSIONS[
        rng.choice(7, p=confusions[int(worker[1:]), labels.EXPRESSIONS.index(truth[c])])]
        for worker, c in zip(tasks.worker, clip)]
    import_answers(database, pd.DataFrame({"task": tasks.task, "worker": tasks.worker, "label": answers}))
    per_copy, _ = quality_control(database)
    estimates = error_estimates(database)
    spam = set(per_copy[per_copy.worker_id.isin(spammers)].copy_id)
    flagged = {c for c, v in estimates["agreement"].items() if v is not None and v < 0.4}
    assert flagged <= spam  # the agreement check: no false alarm here
    first, second, both = estimates["caught_by_gold"], estimates["caught_by_agreement"], estimates["caught_by_both"]
    assert first == (per_copy.decision == "unacceptable").sum() and second == len(flagged)
    assert estimates["bad_copies_estimate"] == pytest.approx((first + 1) * (second + 1) / (both + 1) - 1, abs=0.01)
    assert estimates["bad_copies_estimate"] == pytest.approx(chapman(first, second, both), abs=0.01)
    print(f"seed {seed}: {len(spam)} spam copies of {len(per_copy)}; gold caught {first}, agreement {second}, "
          f"both {both}; estimate {estimates['bad_copies_estimate']}, uncaught {estimates['bad_copies_uncaught']}")
    assert abs(estimates["bad_copies_estimate"] - len(spam)) <= 0.25 * len(spam)
    assert estimates["bad_copies_uncaught"] == pytest.approx(
        max(estimates["bad_copies_estimate"] - (first + second - both), 0), abs=0.02)
    assert set(estimates["kept_but_disagreeing"]) == flagged - set(per_copy[per_copy.decision == "unacceptable"].copy_id)


def test_a_perfect_crowd_leaves_no_errors(project):
    database, truth, tasks = project
    clip = tasks.path.str.split("/").str[-1]
    import_answers(database, pd.DataFrame({"task": tasks.task, "worker": tasks.worker, "label": truth[clip].to_numpy()}))
    quality_control(database)
    estimates = error_estimates(database)
    assert set(estimates["agreement"].values()) - {None} == {1.0}  # None: the last, small group
    assert estimates["caught_by_gold"] == estimates["caught_by_agreement"] == 0
    assert estimates["bad_copies_estimate"] == 0 and estimates["bad_copies_uncaught"] == 0


def test_bad_clip_and_worker_tables_name_rows_and_store_nothing(tmp_path):
    database = tmp_path / "a.sqlite"
    clips = pd.DataFrame({"clip_id": ["a", "b", "a", "d", "e"], "path": ["a.mp4", "b.mp4", "c.mp4", "", "e.mp4"],
                          "gold": ["joy", "", "", "", "ecstasy"], "is_gold": ["", "true", "", "", ""]})
    workers = pd.DataFrame({"worker_id": ["w1", "w2", "w3"], "role": "crowd"})
    with pytest.raises(AnnotationError) as error:
        plan(database, clips, workers)
    message = str(error.value)
    for expected in ("row 3: clip 'b' is marked as a gold item but has no gold label", "row 4: clip 'a' already in row 2",
                     "row 5: empty clip_id or path", "row 6: gold label 'ecstasy'"):
        assert expected in message
    assert "row 2" not in message.replace("in row 2", "")  # 'joy' is a vocabulary word for happy
    with pytest.raises(AnnotationError, match="row 3: role 'boss'.*\n.*row 4: worker 'w1' listed twice"):
        plan(database, clips.iloc[:2].assign(is_gold=""), pd.DataFrame({"worker_id": ["w1", "w2", "w1"],
                                                                       "role": ["crowd", "boss", "crowd"]}))
    assert not database.exists()  # checked before anything is stored


def test_group_report_and_dump(project, tmp_path):
    database, truth, tasks = project
    import_answers(database, crowd_answers(tasks, truth))
    per_copy, _ = quality_control(database)
    reassign(database)
    groups = group_report(per_copy, database)
    assert (groups[["accept", "improper", "unacceptable"]].sum(axis=1) == 3).all()
    assert (groups.copies == 3 + groups.unacceptable).all() and (groups.reassigned == groups.unacceptable).all()
    written = dump(database, tmp_path / "dump", ".parquet")
    assert [p.stem for p in written] == ["clips", "workers", "copies", "tasks", "answers", "decisions", "labels"]
    assert len(pd.read_parquet(tmp_path / "dump" / "answers.parquet")) == len(tasks)


def test_a_concurrent_import_of_the_same_answers_is_named_as_duplicates(project, tmp_path):
    import subprocess
    import sys
    import time

    database, truth, tasks = project
    answers = crowd_answers(tasks, truth).iloc[:4]
    answers.to_csv(tmp_path / "answers.csv", index=False)
    holder = sqlite3.connect(database, isolation_level=None)  # another import, half-way: it holds the write lock
    holder.execute("BEGIN IMMEDIATE")
    holder.executemany("INSERT INTO answers VALUES (?, ?, ?, '', '')",
                       [(a.task, a.worker, a.label) for a in answers.itertuples()])
    second = subprocess.Popen([sys.executable, "-m", "dfer.cli", "annotate", "import", str(tmp_path / "answers.csv"),
                               "--db", str(database)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)  # the second import is started and waits for the lock
    holder.execute("COMMIT")
    holder.close()
    _, stderr = second.communicate(timeout=120)
    assert second.returncode == 2 and "IntegrityError" not in stderr and "Traceback" not in stderr
    assert "row 2: duplicate answer" in stderr and "row 5: duplicate answer" in stderr


def test_a_database_that_is_not_one_is_refused_and_none_is_made_by_mistake(project, tmp_path):
    from dfer.errors import DatasetError

    database, truth, tasks = project
    (tmp_path / "notes.txt").write_text("not a database\n" * 100)
    for path, message in ((tmp_path / "notes.txt", "not an annotation database"), (tmp_path, "is a folder"),
                          (tmp_path / "typo.sqlite", "no such annotation database")):
        with pytest.raises(DatasetError, match=message):
            quality_control(path)
        with pytest.raises(DatasetError, match=message):
            import_answers(path, crowd_answers(tasks, truth).iloc[:2])
    assert not (tmp_path / "typo.sqlite").exists()
