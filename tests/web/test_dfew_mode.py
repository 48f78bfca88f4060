"""DFEW mode: the 7 classes, 10 distinct annotators per clip, their votes counted from the database."""

import json

import numpy as np
import pandas as pd

from dfer import labels
from dfer.web.app import create_app
from dfer.web.store import issue_tokens

from tests.conftest import run_cli
from tests.web.conftest import CLIP
from tests.web.test_app import client_for


def test_ten_annotators_vote_the_seven_classes_and_the_votes_feed_dfews_rules(tmp_path):
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    names = [f"clip_{i:02d}" for i in range(12)]
    for name in names:
        (media / "clips" / f"{name}.mp4").write_bytes(CLIP.read_bytes())
    pd.DataFrame({"clip_id": names, "path": [f"clips/{n}.mp4" for n in names]}).to_csv(tmp_path / "clips.csv",
                                                                                          index=False)
    pd.DataFrame({"worker_id": [f"v{i}" for i in range(10)], "role": "crowd"}).to_csv(tmp_path / "workers.csv",
                                                                                      index=False)
    database = tmp_path / "dfew.sqlite"
    planned = run_cli("annotate", "plan", "--mode", "dfew", "--db", database, "--clips", tmp_path / "clips.csv",
                      "--workers", tmp_path / "workers.csv", "--tasks-out", tmp_path / "tasks.csv", "--group-size", 12)
    assert planned.returncode == 0, planned.stderr
    tasks = pd.read_csv(tmp_path / "tasks.csv")
    assert tasks.worker.nunique() == 10 and len(tasks) == 120  # every clip for 10 distinct annotators, no gold
    tokens = {t["worker_id"]: t["token"] for t in issue_tokens(database) if t["worker_id"]}
    app = create_app(database, media)
    page = client_for(app, tokens["v0"]).get(f"/copy/{tasks.loc[tasks.worker == 'v0', 'copy'].iloc[0]}").text
    config = json.loads(page.split('id="config">')[1].split("</script>")[0])
    assert config["keys"] == {str(i + 1): name for i, name in enumerate(labels.EXPRESSIONS)} and "PASS" not in page
    rng = np.random.default_rng(0)
    for worker, own in tasks.groupby("worker"):
        client = client_for(app, tokens[worker])
        assert client.put(f"/api/answers/{own.task.iloc[0]}", json={"word": "joy"}).status_code == 409
        assert client.put(f"/api/answers/{own.task.iloc[0]}", json={"word": "PASS"}).status_code == 409
        for task in own.task:  # mostly happy, some sad
            vote = "happy" if rng.random() < 0.8 else "sad"
            assert client.put(f"/api/answers/{task}", json={"word": vote}).status_code == 200
    counted = run_cli("annotate", "votes", "--db", database, "--out", tmp_path / "votes.csv")
    assert counted.returncode == 0, counted.stderr
    table = pd.read_csv(tmp_path / "votes.csv")
    assert len(table) == 12 and np.allclose(table[[f"p_{n}" for n in labels.EXPRESSIONS]].sum(axis=1), 1)
    report = json.loads((tmp_path / "votes.json").read_text())
    assert report["clips"] == 12 and (table.label[table.single] == "happy").all()  # > 6 of the 10 votes
    both = run_cli("annotate", "votes", tmp_path / "votes.csv", "--db", database, "--out", tmp_path / "v2.csv")
    assert both.returncode == 2 and "either a votes table or --db" in both.stderr
