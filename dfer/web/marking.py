"""SDFE-LV interval marking in the web app: long videos, who marks which, and the marks.

Tables added to the annotation database (:data:`dfer.web.store.WEB_SCHEMA`):

- ``long_videos``: each video as served — the constant-frame-rate H.264 copy made on ingest
  (``file``, relative to ``--media``), its fps and its frame count. The copy holds every decoded
  frame of the source once, in order, at an equal spacing, so frame k of the page is frame k of
  the source (0-based, SDFE-LV's onset/offset numbering);
- ``markings``: one hidden id per (video, annotator) — SDFE-LV has 5 annotators per video, each
  blind to the others — and when it was submitted;
- ``marks``: the intervals (onset, offset inclusive, category 1–6) of a marking;
- ``mark_history``: every added, changed or deleted mark (the audit trail).

:func:`export_marks` writes the ``dfer-long-video`` JSON that ``dfer annotate intervals`` max-votes.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dfer.data.long_video import FORMAT, VERSION, read_long_videos
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import atomic_path
from dfer.web.media import ingest
from dfer.web.store import Caller, NotFound, Refused, inside, now, open_store

CATEGORIES = range(1, 7)


def plan_marking(database: str | Path, annotations: str | Path, videos: str | Path, workers: list[str],
                 media: str | Path, per_video: int = 5, seed: int = 0, progress: bool = True) -> list[dict]:
    """Ingest the videos a ``dfer-long-video`` file lists (``videos/<video>.mp4`` under ``videos``)
    into ``media/long/``, and give each ``per_video`` distinct annotators of ``workers`` (seeded,
    balanced). Returns the new markings ``[{"marking", "video", "worker"}]``."""
    read_long_videos(annotations)  # refuse a malformed file before anything is written
    listed = json.loads(Path(annotations).read_text())["videos"]
    names = list(listed)
    if len(workers) < per_video:
        raise InputError(f"{per_video} annotators per video need at least {per_video} workers, got {len(workers)}")
    missing = [name for name in names if not (Path(videos) / f"{name}.mp4").is_file()]
    if missing:
        raise DatasetError(videos, f"no {missing[0]}.mp4 here for video {missing[0]!r} of {annotations} "
                           f"({len(missing)} missing)")
    rng = np.random.default_rng(seed)
    load = dict.fromkeys(workers, 0)
    created = []
    with open_store(database, create=True) as connection:
        connection.executemany("INSERT OR IGNORE INTO workers VALUES (?, 'crowd')", [(w,) for w in workers])
        for name in tqdm(names, desc="ingest", unit="video", disable=None if progress else True):
            file = Path("long") / f"{name}.mp4"
            fps, frames = ingest(Path(videos) / f"{name}.mp4", Path(media) / file)
            if listed[name].get("frames") and int(listed[name]["frames"]) != frames:
                raise DatasetError(Path(videos) / f"{name}.mp4", f"decodes to {frames} frames, but {annotations} "
                                   f"says {listed[name]['frames']}: the frame numbers would not match")
            connection.execute("INSERT OR REPLACE INTO long_videos VALUES (?, ?, ?, ?)", (name, str(file), fps, frames))
            have = {w for (w,) in connection.execute("SELECT worker_id FROM markings WHERE video_id = ?", (name,))}
            free = sorted((w for w in workers if w not in have), key=lambda w: (load[w], rng.random()))
            for worker in free[:max(0, per_video - len(have))]:
                marking = secrets.token_hex(8)
                connection.execute("INSERT INTO markings VALUES (?, ?, ?, NULL)", (marking, name, worker))
                load[worker] += 1
                created.append({"marking": marking, "video": name, "worker": worker})
    connection.close()
    return created


def markings(connection: sqlite3.Connection, who: Caller) -> list[dict]:
    """The caller's videos to mark: hidden id, marks so far, frames, submitted."""
    rows = connection.execute(
        "SELECT markings.marking_id, COUNT(marks.mark_id), long_videos.frames, markings.submitted IS NOT NULL "
        "FROM markings JOIN long_videos USING (video_id) LEFT JOIN marks USING (marking_id) WHERE worker_id = ? "
        "GROUP BY markings.marking_id ORDER BY markings.rowid", (who.worker_id,)).fetchall()
    return [{"marking_id": m, "marks": n, "frames": f, "submitted": bool(s)} for m, n, f, s in rows]


def _own(connection: sqlite3.Connection, who: Caller, marking_id: str) -> tuple[str, float, int, bool, str]:
    row = connection.execute(
        "SELECT markings.worker_id, long_videos.file, long_videos.fps, long_videos.frames, markings.submitted "
        "FROM markings JOIN long_videos USING (video_id) WHERE marking_id = ?", (marking_id,)).fetchone()
    if row is None or row[0] != who.worker_id:
        raise NotFound(marking_id)
    return row[1], row[2], row[3], row[4] is not None, marking_id


def marking(connection: sqlite3.Connection, who: Caller, marking_id: str) -> dict:
    """One of the caller's markings: fps, frames, submitted and the caller's marks (no video name)."""
    _, fps, frames, submitted, _ = _own(connection, who, marking_id)
    marks = [{"mark_id": i, "onset": on, "offset": off, "category": c} for i, on, off, c in connection.execute(
        "SELECT mark_id, onset, offset, category FROM marks WHERE marking_id = ? ORDER BY onset, mark_id",
        (marking_id,))]
    return {"fps": fps, "frames": frames, "submitted": submitted, "marks": marks}


def _check(onset, offset, category, frames: int) -> tuple[int, int, int]:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (onset, offset, category)):
        raise Refused("onset, offset and category must be whole numbers")
    if not 0 <= onset <= offset < frames:
        raise Refused(f"expected 0 ≤ onset ≤ offset < {frames} (the video's frames), got {onset}, {offset}")
    if category not in CATEGORIES:
        raise Refused(f"category must be 1–6 (SDFE-LV's), got {category}")
    return onset, offset, category


def save_mark(connection: sqlite3.Connection, who: Caller, marking_id: str, values: dict,
              mark_id: int | None = None) -> dict:
    """Add a mark (``mark_id`` None) or change one of the caller's; returns it. Closed once submitted."""
    _, _, frames, submitted, _ = _own(connection, who, marking_id)
    if submitted:
        raise Refused("this video is submitted; its marks can no longer change")
    onset, offset, category = _check(values.get("onset"), values.get("offset"), values.get("category"), frames)
    with connection:
        if mark_id is None:
            mark_id = connection.execute("INSERT INTO marks (marking_id, onset, offset, category, time) VALUES "
                                         "(?, ?, ?, ?, ?)", (marking_id, onset, offset, category, now())).lastrowid
            action = "add"
        else:
            changed = connection.execute("UPDATE marks SET onset = ?, offset = ?, category = ?, time = ? WHERE "
                                         "mark_id = ? AND marking_id = ?",
                                         (onset, offset, category, now(), mark_id, marking_id)).rowcount
            if not changed:
                raise NotFound(str(mark_id))
            action = "change"
        connection.execute("INSERT INTO mark_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (mark_id, marking_id, action, onset, offset, category, now()))
    return {"mark_id": mark_id, "onset": onset, "offset": offset, "category": category}


def delete_mark(connection: sqlite3.Connection, who: Caller, marking_id: str, mark_id: int) -> None:
    _, _, _, submitted, _ = _own(connection, who, marking_id)
    if submitted:
        raise Refused("this video is submitted; its marks can no longer change")
    with connection:
        if not connection.execute("DELETE FROM marks WHERE mark_id = ? AND marking_id = ?",
                                  (mark_id, marking_id)).rowcount:
            raise NotFound(str(mark_id))
        connection.execute("INSERT INTO mark_history VALUES (?, ?, 'delete', NULL, NULL, NULL, ?)",
                           (mark_id, marking_id, now()))


def submit_marking(connection: sqlite3.Connection, who: Caller, marking_id: str) -> None:
    _own(connection, who, marking_id)
    with connection:
        connection.execute("UPDATE markings SET submitted = COALESCE(submitted, ?) WHERE marking_id = ?",
                           (now(), marking_id))


def marking_file(connection: sqlite3.Connection, who: Caller, marking_id: str, root: Path) -> Path:
    """The served copy of one of the caller's videos, inside ``root`` only."""
    stored, *_ = _own(connection, who, marking_id)
    return inside(root, stored, marking_id)


def export_marks(database: str | Path, out: str | Path, submitted_only: bool = True) -> int:
    """Every video's marks per annotator as ``dfer-long-video`` JSON (the input of ``dfer annotate
    intervals``); with ``submitted_only``, only submitted markings. Returns the videos written."""
    with open_store(database) as connection:
        videos = connection.execute("SELECT video_id, fps, frames FROM long_videos ORDER BY video_id").fetchall()
        rows = connection.execute(
            "SELECT markings.video_id, markings.worker_id, marks.onset, marks.offset, marks.category FROM markings "
            "LEFT JOIN marks USING (marking_id) WHERE ? OR markings.submitted IS NOT NULL "
            "ORDER BY markings.video_id, markings.worker_id, marks.onset", (0 if submitted_only else 1,)).fetchall()
    connection.close()
    data = {"format": FORMAT, "version": VERSION,
            "videos": {video: {"fps": fps, "frames": frames, "annotators": {}} for video, fps, frames in videos}}
    for video, worker, onset, offset, category in rows:
        marks = data["videos"][video]["annotators"].setdefault(worker, [])
        if onset is not None:
            marks.append([onset, offset, category])
    with atomic_path(out) as partial:
        partial.write_text(json.dumps(data, indent=1))
    return len(videos)
