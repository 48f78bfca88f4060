"""The annotation web app in-process (Starlette's test client): access, answers, media."""

import sqlite3

from starlette.testclient import TestClient

from dfer.web.app import COOKIE
from dfer.web.store import issue_tokens

from tests.web.conftest import CLIP


def client_for(app, token=None):
    client = TestClient(app, base_url="http://127.0.0.1")
    if token is not None:
        response = client.get(f"/login/{token}", follow_redirects=False)
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and cookie.startswith(f"{COOKIE}=")
    return client


def own_copy(tasks, worker):
    return tasks.loc[tasks.worker == worker, "copy"].iloc[0]


def test_login_links_and_what_each_caller_sees(served):
    app, database, tasks, tokens, _ = served
    anonymous = client_for(app)
    assert anonymous.get("/").status_code == 401
    assert anonymous.get("/login/not-a-token", follow_redirects=False).status_code == 403
    assert anonymous.get(f"/api/copies/{own_copy(tasks, 'w0')}/tasks").status_code == 401
    w0 = client_for(app, tokens["w0"])
    home = w0.get("/")
    count = (tasks.worker == "w0").sum()  # 10 clips and one gold item
    assert home.status_code == 200 and "Clips for w0" in home.text and f"0 / {count}" in home.text
    listed = w0.get(f"/api/copies/{own_copy(tasks, 'w0')}/tasks").json()["tasks"]
    assert [t["task_id"] for t in listed] == tasks.loc[tasks.worker == "w0", "task"].tolist()  # hidden ids, in order
    assert w0.get(f"/api/copies/{own_copy(tasks, 'w1')}/tasks").status_code == 404  # another's set: not found
    assert w0.get(f"/copy/{own_copy(tasks, 'w1')}").status_code == 404
    other_task = tasks.loc[tasks.worker == "w1", "task"].iloc[0]
    assert w0.put(f"/api/answers/{other_task}", json={"word": "joy"}).status_code == 404
    assert w0.get(f"/media/{other_task}").status_code == 404
    with sqlite3.connect(database) as connection:  # only hashes are stored
        stored = {h for (h,) in connection.execute("SELECT token_hash FROM access")}
    assert not set(tokens.values()) & stored and len(stored) == 5


def test_no_response_carries_gold_clip_ids_or_paths(served):
    app, _, tasks, tokens, _ = served
    w0 = client_for(app, tokens["w0"])
    copy = own_copy(tasks, "w0")
    bodies = [w0.get("/").text, w0.get(f"/copy/{copy}").text, w0.get(f"/api/copies/{copy}/tasks").text]
    first = tasks.loc[tasks.worker == "w0", "task"].iloc[0]
    bodies.append(w0.put(f"/api/answers/{first}", json={"word": "joy"}).text)
    bodies.append(w0.get(f"/api/copies/{copy}/tasks").text)
    for body in bodies:
        assert "clip_" not in body and "clips/" not in body and "gold" not in body.lower()
    listed = w0.get(f"/api/copies/{copy}/tasks").json()["tasks"]
    assert all(set(task) == {"task_id", "position", "word", "fps"} for task in listed)  # nothing else about a clip
    assert [task["word"] for task in listed] == ["joy"] + [None] * (len(listed) - 1)  # the caller's answers only


def test_answers_are_idempotent_audited_and_closed_by_submission(served):
    app, database, tasks, tokens, _ = served
    w0 = client_for(app, tokens["w0"])
    mine = tasks.loc[tasks.worker == "w0", "task"].tolist()
    assert w0.put(f"/api/answers/{mine[0]}", json={"word": "Joy"}).json() == {"status": "stored"}
    assert w0.put(f"/api/answers/{mine[0]}", json={"word": "joy"}).json() == {"status": "unchanged"}
    assert w0.put(f"/api/answers/{mine[0]}", json={"word": "grief"}).json() == {"status": "updated"}
    assert w0.put(f"/api/answers/{mine[1]}", json={"word": "pass"}).json() == {"status": "stored"}
    assert w0.put(f"/api/answers/{mine[2]}", json={"word": "bliss"}).status_code == 409
    assert w0.put(f"/api/answers/{mine[2]}", content=b"joy").status_code == 400
    with sqlite3.connect(database) as connection:
        answers = connection.execute("SELECT task_id, word, label FROM answers WHERE worker_id = 'w0' ORDER BY word"
                                     ).fetchall()
        history = connection.execute("SELECT task_id, old_word, new_word FROM answer_history ORDER BY rowid").fetchall()
    assert answers == [(mine[1], "PASS", "PASS"), (mine[0], "grief", "sad")]
    assert history == [(mine[0], None, "joy"), (mine[0], "joy", "grief"), (mine[1], None, "PASS")]
    copy = own_copy(tasks, "w0")
    refused = w0.post(f"/api/copies/{copy}/submit")
    assert refused.status_code == 409 and f"{len(mine) - 2} clip(s) still unanswered" in refused.json()["error"]
    for task in mine[2:]:
        w0.put(f"/api/answers/{task}", json={"word": "calm"})
    assert w0.post(f"/api/copies/{copy}/submit").json() == {"status": "submitted"}
    assert w0.post(f"/api/copies/{copy}/submit").json() == {"status": "submitted"}  # twice is once
    assert w0.put(f"/api/answers/{mine[0]}", json={"word": "joy"}).status_code == 409  # closed
    assert "submitted" in w0.get("/").text


def test_media_is_served_with_ranges_and_never_from_outside_the_folder(served, tmp_path):
    app, database, tasks, tokens, media = served
    w0 = client_for(app, tokens["w0"])
    task = tasks.loc[tasks.worker == "w0", "task"].iloc[0]
    whole = w0.get(f"/media/{task}")
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.content == CLIP.read_bytes() and whole.headers.get("accept-ranges") == "bytes"
    part = w0.get(f"/media/{task}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == CLIP.read_bytes()[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{CLIP.stat().st_size}"
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not for annotators")
    with sqlite3.connect(database) as connection:  # a stored path that climbs out of --media
        connection.execute("UPDATE clips SET path = '../secret.mp4' WHERE clip_id = "
                           "(SELECT clip_id FROM tasks WHERE task_id = ?)", (task,))
    assert w0.get(f"/media/{task}").status_code == 404
    assert w0.get("/static/../app.py").status_code == 404


def test_new_tokens_end_the_old_links_and_sessions(served):
    app, database, _, tokens, _ = served
    w0 = client_for(app, tokens["w0"])
    assert w0.get("/").status_code == 200
    issue_tokens(database)
    assert w0.get("/").status_code == 401
    assert client_for(app).get(f"/login/{tokens['w0']}", follow_redirects=False).status_code == 403


def test_the_admin_link_is_not_an_annotator(served):
    app, _, tasks, tokens, _ = served
    admin = client_for(app, tokens["admin"])
    assert admin.get("/").status_code == 200
    assert admin.get(f"/api/copies/{own_copy(tasks, 'w0')}/tasks").status_code == 401
