"""SDFE-LV marking: ingest at a constant frame rate, blind markings, marks over HTTP, export."""

import json
import sqlite3

import numpy as np
import pytest

from dfer.data.intervals import aggregate_file
from dfer.io.frames import read_video
from dfer.io.video import probe
from dfer.web.marking import export_marks

from tests.web.test_app import client_for


def test_ingest_keeps_every_frame_in_order_at_a_constant_rate(marking_project, long_videos):
    _, database, created, _, media = marking_project
    listed = json.loads((long_videos / "annotations.json").read_text())["videos"]
    with sqlite3.connect(database) as connection:
        stored = {v: (fps, frames, file) for v, file, fps, frames in connection.execute("SELECT * FROM long_videos")}
    assert set(stored) == set(listed)
    for video, (fps, frames, file) in stored.items():
        assert frames == listed[video]["frames"] and fps == listed[video]["fps"] == probe(media / file).fps
        source = read_video(long_videos / "videos" / f"{video}.mp4", [0, 37, frames - 1])
        copy = read_video(media / file, [0, 37, frames - 1])
        for index in source:  # frame k of the served copy is frame k of the source (up to re-encoding)
            assert np.abs(source[index].astype(int) - copy[index].astype(int)).mean() < 6, (video, index)
    # 5 distinct annotators per video, spread over the 6
    assert (created.groupby("video").worker.nunique() == 5).all() and created.worker.value_counts().max() <= 2


def test_marks_over_http_are_checked_blind_audited_and_exported(marking_project, tmp_path):
    app, database, created, tokens, _ = marking_project
    mine = created[created.worker == "m0"].marking.iloc[0]
    video = created[created.worker == "m0"].video.iloc[0]
    theirs = created[(created.video == video) & (created.worker != "m0")]
    m0 = client_for(app, tokens["m0"])
    frames = m0.get(f"/api/markings/{mine}").json()["frames"]
    added = m0.post(f"/api/markings/{mine}/marks", json={"onset": 10, "offset": 37, "category": 3}).json()
    assert added == {"mark_id": added["mark_id"], "onset": 10, "offset": 37, "category": 3}
    second = m0.post(f"/api/markings/{mine}/marks", json={"onset": 50, "offset": 60, "category": 4}).json()
    changed = m0.put(f"/api/markings/{mine}/marks/{second['mark_id']}", json={"onset": 52, "offset": 61, "category": 4})
    assert changed.json()["onset"] == 52
    for bad in ({"onset": 5, "offset": 4, "category": 1}, {"onset": 0, "offset": frames, "category": 1},
                {"onset": 0, "offset": 3, "category": 7}, {"onset": "0", "offset": 3, "category": 1}):
        assert m0.post(f"/api/markings/{mine}/marks", json=bad).status_code == 409, bad
    third = m0.post(f"/api/markings/{mine}/marks", json={"onset": 70, "offset": 80, "category": 1}).json()
    assert m0.delete(f"/api/markings/{mine}/marks/{third['mark_id']}").json() == {"status": "deleted"}
    other = client_for(app, tokens[theirs.worker.iloc[0]])  # blind: another annotator sees none of it
    assert other.get(f"/api/markings/{mine}").status_code == 404
    assert other.delete(f"/api/markings/{mine}/marks/{added['mark_id']}").status_code == 404
    assert other.get(f"/api/markings/{theirs.marking.iloc[0]}").json()["marks"] == []
    assert other.get(f"/media/marking/{mine}").status_code == 404
    assert m0.get(f"/media/marking/{mine}", headers={"Range": "bytes=0-99"}).status_code == 206
    assert [(m["onset"], m["offset"]) for m in m0.get(f"/api/markings/{mine}").json()["marks"]] == [(10, 37), (52, 61)]
    with sqlite3.connect(database) as connection:
        actions = [a for (a,) in connection.execute("SELECT action FROM mark_history ORDER BY rowid")]
    assert actions == ["add", "add", "change", "add", "delete"]
    assert m0.post(f"/api/markings/{mine}/submit").json() == {"status": "submitted"}
    assert m0.post(f"/api/markings/{mine}/marks", json={"onset": 1, "offset": 2, "category": 1}).status_code == 409
    assert "video 1" in m0.get("/").text
    out = tmp_path / "marks.json"
    assert export_marks(database, out) == 2
    exported = json.loads(out.read_text())["videos"][video]["annotators"]
    assert exported == {"m0": [[10, 37, 3], [52, 61, 4]]}  # only submitted markings by default
    export_marks(database, out, submitted_only=False)
    assert len(json.loads(out.read_text())["videos"][video]["annotators"]) == 5
    final = aggregate_file(json.loads(out.read_text()))  # what `dfer annotate intervals` does with it
    assert final["videos"][video]["final"] == []  # m0's marks alone are outvoted by four empty markings


def test_plan_refuses_missing_videos_and_frame_counts_that_disagree(long_videos, tmp_path):
    from dfer.web.marking import plan_marking

    data = json.loads((long_videos / "annotations.json").read_text())
    first = next(iter(data["videos"]))
    data["videos"][first]["frames"] += 1
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"decodes to {data['videos'][first]['frames'] - 1} frames"):
        plan_marking(tmp_path / "db.sqlite", wrong, long_videos / "videos", ["a", "b"], tmp_path / "media",
                     per_video=2, progress=False)
    with pytest.raises(ValueError, match="no .*mp4 here"):
        plan_marking(tmp_path / "db.sqlite", long_videos / "annotations.json", tmp_path, ["a", "b"],
                     tmp_path / "media", per_video=2, progress=False)
