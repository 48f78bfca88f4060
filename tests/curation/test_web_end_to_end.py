"""End to end through the web app: candidates → plan → annotators over HTTP (each watching their
clips) → the dashboard's QC and reassign → aggregate → export → ``dfer data check``."""

import sqlite3

import pandas as pd

from dfer import labels
from dfer.cli import main
from dfer.curation.annotation import PlanOptions, aggregate_labels, plan
from dfer.web.app import create_app
from dfer.web.store import issue_tokens

from tests.web.test_app import client_for


def label_over_http(app, token, truth_of_task, wrong: bool) -> int:
    """One annotator's page session: every set of theirs, each clip fetched, answered, then submitted.
    ``truth_of_task`` stands in for what the annotator sees; ``wrong`` is a spammer. Returns answers."""
    client = client_for(app, token)
    given = 0
    for copy in [line.split('href="/copy/')[1].split('"')[0] for line in client.get("/").text.split("<tr>")
                 if 'href="/copy/' in line]:
        for task in client.get(f"/api/copies/{copy}/tasks").json()["tasks"]:
            assert client.get(f"/media/{task['task_id']}").status_code == 200
            truth = truth_of_task[task["task_id"]]
            word = labels.EXPRESSIONS[(labels.EXPRESSIONS.index(truth) + 1) % 7] if wrong else truth
            assert client.put(f"/api/answers/{task['task_id']}", json={"word": word}).status_code == 200
            given += 1
        assert client.post(f"/api/copies/{copy}/submit").json() == {"status": "submitted"}
    return given


def test_candidates_labelled_in_the_web_app_become_a_checked_dataset(built, tmp_path, capsys):
    _, out, _ = built
    candidates = pd.read_csv(out / "candidates.csv", keep_default_na=False)
    truth = dict(zip(candidates.clip_id, candidates.predicted))  # pretend the model was right
    clips = candidates[["clip_id", "path", "scene"]].assign(gold="")
    clips.loc[0, "gold"] = truth[clips.clip_id[0]]
    workers = pd.DataFrame({"worker_id": ["g1", "g2", "g3", "s1", "pro1"], "role": ["crowd"] * 4 + ["professional"]})
    database = tmp_path / "annotation.sqlite"
    plan(database, clips, workers, PlanOptions(group_size=6, copies=3, seed=0))
    tokens = {t["worker_id"] or "admin": t["token"] for t in issue_tokens(database)}
    app = create_app(database, out)  # candidates.csv paths are relative to the build folder

    def truths():
        with sqlite3.connect(database) as connection:
            return {task: truth[clip] for task, clip in connection.execute("SELECT task_id, clip_id FROM tasks")}

    for worker in ("g1", "g2", "g3", "s1"):
        label_over_http(app, tokens[worker], truths(), wrong=worker == "s1")
    admin = client_for(app, tokens["admin"])
    admin.post("/admin/qc")
    with sqlite3.connect(database) as connection:
        decisions = dict(connection.execute("SELECT worker_id, decision FROM decisions JOIN copies USING (copy_id)"))
    assert decisions["s1"] == "unacceptable"  # (seed 0 gives the spammer a set)
    admin.post("/admin/reassign")  # back to the crowd: to the good worker who has no set of the group
    spare = ({"g1", "g2", "g3"} - set(decisions)).pop()
    assert label_over_http(app, tokens[spare], truths(), wrong=False) > 0
    admin.post("/admin/qc")
    assert "Annotation progress" in admin.get("/").text
    done = admin.post("/admin/export", data={"candidates": "candidates.csv", "format": "ferv39k", "name": "labelled"},
                      follow_redirects=False)  # the build folder's candidates.csv, under --media
    assert "exported" in done.headers["location"], done.headers["location"]
    labelled = aggregate_labels(database, "wta").set_index("clip_id")
    assert (labelled.label == labelled.index.map(truth)).all() and len(labelled) == len(candidates) - 1
    root = tmp_path / "exports" / "labelled"  # beside the database
    assert main(["data", "check", str(root), "--strict"]) == 0
    capsys.readouterr()
