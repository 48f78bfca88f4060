"""``dfer annotate``: each step from the command line, with one-line errors naming rows."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from dfer import labels


def run(*args):
    return subprocess.run([sys.executable, "-m", "dfer.cli", "annotate", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def test_plan_import_qc_aggregate(tmp_path):
    rng = np.random.default_rng(0)
    clips = pd.DataFrame({"clip_id": [f"c{i}" for i in range(60)], "path": [f"v/c{i}.mp4" for i in range(60)]})
    truth = dict(zip(clips.clip_id, rng.choice(labels.EXPRESSIONS, 60)))
    clips["gold"] = [truth[c] if i < 6 else "" for i, c in enumerate(clips.clip_id)]
    clips.to_csv(tmp_path / "clips.csv", index=False)
    pd.DataFrame({"worker_id": ["a", "b", "c"], "role": "crowd"}).to_csv(tmp_path / "workers.csv", index=False)
    db = tmp_path / "a.sqlite"
    result = run("plan", "--db", db, "--clips", tmp_path / "clips.csv", "--workers", tmp_path / "workers.csv",
                 "--tasks-out", tmp_path / "tasks.csv", "--group-size", 20)
    assert result.returncode == 0, result.stderr
    tasks = pd.read_csv(tmp_path / "tasks.csv")
    clip_of = tasks.path.str.extract(r"(c\d+)")[0]
    answers = pd.DataFrame({"task": tasks.task, "worker": tasks.worker, "label": clip_of.map(truth)})
    answers.to_csv(tmp_path / "answers.csv", index=False)
    bad = answers.iloc[:2].assign(label=["joy", "bliss"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = run("import", tmp_path / "bad.csv", "--db", db)
    assert result.returncode == 2 and "row 3: label 'bliss'" in result.stderr and "nothing imported" in result.stderr
    assert run("import", tmp_path / "answers.csv", "--db", db).returncode == 0
    result = run("qc", "--db", db, "--out", tmp_path / "qc")
    assert result.returncode == 0 and "accept" in result.stdout
    assert (pd.read_csv(tmp_path / "qc" / "copies.csv").decision == "accept").all()
    assert pd.read_csv(tmp_path / "qc" / "groups.csv").accept.eq(3).all()
    assert json.loads((tmp_path / "qc" / "estimates.json").read_text())["bad_copies_estimate"] == 0
    assert (tmp_path / "qc" / "relabel.csv").is_file() and "capture–recapture" in result.stdout
    result = run("reassign", "--db", db, "--tasks-out", tmp_path / "again.csv")
    assert result.returncode == 0 and "0 unacceptable copies" in result.stdout
    assert run("dump", "--db", db, "--out", tmp_path / "dump").returncode == 0
    assert len(pd.read_csv(tmp_path / "dump" / "answers.csv")) == len(answers)
    result = run("aggregate", "--db", db, "--out", tmp_path / "labels.csv")
    assert result.returncode == 0, result.stderr
    final = pd.read_csv(tmp_path / "labels.csv").set_index("clip_id").label
    assert len(final) == 54 and all(final[c] == truth[c] for c in final.index)


def test_votes_and_intervals(tmp_path):
    votes = pd.DataFrame([[0, 0, 0, 8, 2, 0, 0], [3, 3, 0, 0, 4, 0, 0]], columns=list(labels.EXPRESSIONS))
    votes.insert(0, "clip_id", ["00001", "00002"])
    votes.to_csv(tmp_path / "votes.csv", index=False)
    result = run("votes", tmp_path / "votes.csv", "--out", tmp_path / "labels.csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "labels.csv", dtype={"clip_id": str}).set_index("clip_id")
    assert table.single.tolist() == [True, False] and table.label.fillna("").tolist() == ["happy", ""]
    assert "kappa_all" in json.loads((tmp_path / "labels.json").read_text())
    (tmp_path / "ann.json").write_text(json.dumps({"v1": {"frames": 50, "annotations": {
        "a": [[10, 20, 4]], "b": [[12, 22, 4]], "c": [[11, 19, 4]]}}}))
    result = run("intervals", tmp_path / "ann.json", "--out", tmp_path / "final.json")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "final.json").read_text())["v1"]["intervals"] == [[11, 20, 4]]
