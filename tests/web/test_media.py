"""`dfer annotate media`: clips copied once at a constant frame rate, then served and stepped by."""

import sqlite3

from dfer.io.frames import count_decoded_frames
from dfer.io.video import probe

from tests.conftest import run_cli
from tests.web.conftest import CLIP
from tests.web.test_app import client_for


def test_clips_are_copied_at_a_constant_rate_and_served_instead(served):
    app, database, tasks, tokens, media = served
    w0 = client_for(app, tokens["w0"])
    copy = tasks.loc[tasks.worker == "w0", "copy"].iloc[0]
    assert {t["fps"] for t in w0.get(f"/api/copies/{copy}/tasks").json()["tasks"]} == {25.0}  # not ingested yet
    (media / "clips" / "clip_05.mp4").unlink()  # one clip gone: listed, the rest copied
    result = run_cli("annotate", "media", "--db", database, "--media", media)
    assert result.returncode == 1 and "11 clips copied" in result.stdout and "clip_05" in result.stdout
    with sqlite3.connect(database) as connection:
        copies = connection.execute("SELECT clip_id, file, fps, frames FROM clip_media").fetchall()
    assert len(copies) == 11 and all(file.startswith("cfr/") and "clip_" not in file for _, file, _, _ in copies)
    source_frames, source_fps = count_decoded_frames(CLIP), probe(CLIP).fps
    for _, file, fps, frames in copies:
        assert frames == source_frames == count_decoded_frames(media / file) and fps == source_fps
        assert probe(media / file).fps == source_fps
    listed = w0.get(f"/api/copies/{copy}/tasks").json()["tasks"]
    assert {t["fps"] for t in listed} >= {source_fps}
    with sqlite3.connect(database) as connection:
        ingested = {t for (t,) in connection.execute("SELECT task_id FROM tasks JOIN clip_media USING (clip_id)")}
    served_task = next(t["task_id"] for t in listed if t["task_id"] in ingested)
    body = w0.get(f"/media/{served_task}").content
    assert body != CLIP.read_bytes() and body == (media / next(
        file for clip, file, _, _ in copies if clip == _clip_of(database, served_task))).read_bytes()
    again = run_cli("annotate", "media", "--db", database, "--media", media)
    assert "0 clips copied" in again.stdout and "11 kept" in again.stdout  # resumable: nothing redone


def _clip_of(database, task):
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT clip_id FROM tasks WHERE task_id = ?", (task,)).fetchone()[0]
