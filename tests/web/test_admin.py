"""The admin dashboard: progress, live gold rates, κ so far, and the QC / reassign buttons."""

import re
import sqlite3

import numpy as np
import pandas as pd

from dfer.curation.agreement import fleiss_kappa
from dfer.web.dashboard import copy_progress, kappa_so_far

from tests.web.conftest import planned
from tests.web.test_app import client_for


def answer_all(app, tasks, tokens, database, wrong_gold: set[str]):
    """Every crowd worker answers every clip ('joy' everywhere, the gold right unless in
    ``wrong_gold``) and submits the set."""
    with sqlite3.connect(database) as connection:
        gold = dict(connection.execute("SELECT task_id, gold FROM tasks JOIN clips USING (clip_id)").fetchall())
    for worker, own in tasks.groupby("worker"):
        client = client_for(app, tokens[worker])
        for task in own.task:
            word = "joy" if gold[task] is None else ("rage" if worker in wrong_gold else gold[task])
            assert client.put(f"/api/answers/{task}", json={"word": word}).status_code == 200
        assert client.post(f"/api/copies/{own['copy'].iloc[0]}/submit").status_code == 200


def test_dashboard_shows_progress_and_runs_qc_and_reassign(tmp_path):
    app, database, tasks, tokens, _ = planned(tmp_path, crowd=4, clips_count=22)
    first = tasks.worker.unique()[0]
    answer_all(app, tasks, tokens, database, wrong_gold={first})
    admin = client_for(app, tokens["admin"])
    page = admin.get("/").text
    assert "Annotation progress" in page and f"{len(tasks)} of {len(tasks)}" in page
    kappa, rated = kappa_so_far(sqlite3.connect(database))
    assert rated == 20 and f"{kappa:.3f} over 20 clips" in page  # all 'joy': perfect agreement
    sets = copy_progress(sqlite3.connect(database))  # what the sets table shows
    assert dict(zip(sets.annotator, sets.gold_rate)) == {w: (0.0 if w == first else 1.0) for w in tasks.worker.unique()}
    assert all(f"<td>{worker}</td>" in page for worker in sets.annotator)
    annotator = client_for(app, tokens[first])
    assert annotator.post("/admin/qc", follow_redirects=False).status_code == 403
    done = admin.post("/admin/qc", follow_redirects=False)
    assert done.status_code == 303 and "2+accept" in done.headers["location"] and "1+unacceptable" in done.headers["location"]
    page = admin.get(done.headers["location"]).text
    assert "quality control: 2 accept, 1 unacceptable" in page and "capture–recapture" in page
    done = admin.post("/admin/reassign", follow_redirects=False)
    assert "1+sets+sent+back" in done.headers["location"]
    spare = (set(tokens) - {"admin", "pro"} - set(tasks.worker)).pop()  # the one crowd worker without a copy
    assert "set 1" in client_for(app, tokens[spare]).get("/").text  # the new copy is theirs, to label
    done = admin.post("/admin/reassign", follow_redirects=False)  # nothing more to send back
    assert "0+sets+sent+back" in done.headers["location"]


def test_kappa_so_far_counts_clips_with_two_answers_and_matches_fleiss(tmp_path):
    app, database, tasks, tokens, _ = planned(tmp_path, crowd=3, clips_count=12)
    rng = np.random.default_rng(0)
    with sqlite3.connect(database) as connection:
        gold = {t for (t,) in connection.execute("SELECT task_id FROM tasks JOIN clips USING (clip_id) "
                                                 "WHERE gold IS NOT NULL")}
    chosen = {}
    for worker, own in tasks.groupby("worker"):
        client = client_for(app, tokens[worker])
        for task in own.task[: 6 if worker == "w2" else None]:  # w2 stops halfway
            word = str(rng.choice(["joy", "rage", "grief", "pass"]))
            client.put(f"/api/answers/{task}", json={"word": word})
            chosen[task] = word
    kappa, rated = kappa_so_far(sqlite3.connect(database))
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT tasks.clip_id, answers.label FROM answers JOIN tasks USING (task_id) "
                                  "WHERE answers.task_id NOT IN (%s) AND label != 'PASS'" % ",".join("?" * len(gold)),
                                  sorted(gold)).fetchall()
    counts = pd.crosstab(pd.Series([c for c, _ in rows]), pd.Series([label for _, label in rows]))
    counts = counts[counts.sum(axis=1) >= 2]
    assert rated == len(counts) and np.isclose(kappa, fleiss_kappa(counts.to_numpy()))
    assert re.search(r"Fleiss", client_for(app, tokens["admin"]).get("/").text)


def test_professionals_relabel_the_improper_sets_clips(tmp_path):
    from dfer.curation.annotation import aggregate_labels

    app, database, tasks, tokens, _ = planned(tmp_path, crowd=3, clips_count=22)
    with sqlite3.connect(database) as connection:
        gold = dict(connection.execute("SELECT task_id, gold FROM tasks JOIN clips USING (clip_id) "
                                       "WHERE gold IS NOT NULL").fetchall())
    for worker, own in tasks.groupby("worker"):  # w0 gets one of the two gold items wrong: a rate of 0.5
        client = client_for(app, tokens[worker])
        wrong = [t for t in own.task if t in gold][:1] if worker == "w0" else []
        for task in own.task:
            word = "rage" if task in wrong else gold.get(task, "joy")
            client.put(f"/api/answers/{task}", json={"word": word})
        client.post(f"/api/copies/{own['copy'].iloc[0]}/submit")
    pro = client_for(app, tokens["pro"])
    assert "No clips are assigned" in pro.get("/").text  # nothing to relabel before QC
    client_for(app, tokens["admin"]).post("/admin/qc")
    home = pro.get("/").text
    assert "clips to relabel" in home and "0 / 20" in home  # w0's 20 non-gold clips, not its gold items
    queue = pro.get("/api/copies/relabel/tasks").json()["tasks"]
    improper = set(tasks.loc[tasks.worker == "w0", "task"]) - set(gold)
    assert {t["task_id"] for t in queue} == improper
    for task in queue:
        assert pro.put(f"/api/answers/{task['task_id']}", json={"word": "grief"}).json() == {"status": "stored"}
    accepted = tasks.loc[tasks.worker == "w1", "task"].iloc[0]
    assert pro.put(f"/api/answers/{accepted}", json={"word": "grief"}).status_code == 404  # not in the queue
    assert pro.post("/api/copies/relabel/submit").status_code == 409
    assert client_for(app, tokens["w1"]).get("/api/copies/relabel/tasks").status_code == 404
    assert pro.get(f"/media/{queue[0]['task_id']}").status_code == 200
    labels = aggregate_labels(database)
    assert len(labels) == 20 and set(labels.label) == {"happy"}  # 3 × joy vs the professional's 2 × grief


def test_the_dashboards_qc_judges_submitted_sets_only(tmp_path):
    app, database, tasks, tokens, _ = planned(tmp_path, crowd=3, clips_count=12)
    for worker, own in tasks.groupby("worker"):
        client = client_for(app, tokens[worker])
        for task in own.task:
            client.put(f"/api/answers/{task}", json={"word": "calm"})
        if worker != "w2":  # w2 answered everything but has not submitted
            client.post(f"/api/copies/{own['copy'].iloc[0]}/submit")
    client_for(app, tokens["admin"]).post("/admin/qc")
    with sqlite3.connect(database) as connection:
        judged = {w for (w,) in connection.execute("SELECT worker_id FROM decisions JOIN copies USING (copy_id)")}
    assert judged == {"w0", "w1"}


def test_the_export_button_writes_under_exports_only(tmp_path):
    app, database, tasks, tokens, media = planned(tmp_path, crowd=3, clips_count=12)
    admin = client_for(app, tokens["admin"])
    for form in ({"candidates": "../outside.csv", "format": "ferv39k", "name": "x"},
                 {"candidates": "clips/clip_00.mp4", "format": "ferv39k", "name": "../escape"}):
        done = admin.post("/admin/export", data=form, follow_redirects=False)
        assert done.status_code == 303 and "not+done" in done.headers["location"], form
    assert not (tmp_path / "escape").exists() and not (tmp_path / "exports").exists()
    assert client_for(app, tokens["w0"]).post("/admin/export", data={"name": "x"}).status_code == 403
