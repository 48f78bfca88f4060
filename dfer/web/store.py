"""The web app's side of the annotation database: access tokens, sessions, and what a caller may see and do.

Tables added to the store of :mod:`dfer.curation.annotation`:

- ``access``: one row per issued token — its SHA-256 (the token itself is printed once and never
  stored), the worker it logs in (NULL for the admin) and the role;
- ``sessions``: the SHA-256 of each login's session cookie and the token it came from;
- ``answer_history``: every change of a stored answer (old word, new word, time): the audit trail;
- ``submissions``: the copies their annotator declared finished;
- ``clip_media``: the constant-frame-rate copy of each clip made by ``dfer annotate media``
  (:mod:`dfer.web.media`), served instead of the clip, with its fps and frames;
- ``long_videos``, ``markings``, ``marks``, ``mark_history``: SDFE-LV interval marking
  (:mod:`dfer.web.marking`).

SHA-256 rather than a slow password hash: tokens and session ids are 256-bit random strings, which
no dictionary or brute-force search can reach, so a fast hash is enough and keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dfer.curation.annotation import connect
from dfer.errors import DatasetError

WEB_SCHEMA = """
CREATE TABLE IF NOT EXISTS access(token_hash TEXT PRIMARY KEY, worker_id TEXT REFERENCES workers,
                                  role TEXT NOT NULL CHECK (role IN ('annotator', 'admin')), issued TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(session_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL REFERENCES access
                                    ON DELETE CASCADE, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answer_history(task_id TEXT NOT NULL, worker_id TEXT NOT NULL, old_word TEXT,
                                          new_word TEXT NOT NULL, time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions(copy_id TEXT PRIMARY KEY REFERENCES copies, time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clip_media(clip_id TEXT PRIMARY KEY REFERENCES clips, file TEXT NOT NULL, fps REAL NOT NULL,
                                      frames INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS long_videos(video_id TEXT PRIMARY KEY, file TEXT NOT NULL, fps REAL NOT NULL,
                                       frames INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS markings(marking_id TEXT PRIMARY KEY, video_id TEXT NOT NULL REFERENCES long_videos,
                                    worker_id TEXT NOT NULL REFERENCES workers, submitted TEXT,
                                    UNIQUE (video_id, worker_id));
CREATE TABLE IF NOT EXISTS marks(mark_id INTEGER PRIMARY KEY AUTOINCREMENT, marking_id TEXT NOT NULL
                                 REFERENCES markings, onset INTEGER NOT NULL, offset INTEGER NOT NULL,
                                 category INTEGER NOT NULL CHECK (category BETWEEN 1 AND 6), time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mark_history(mark_id INTEGER NOT NULL, marking_id TEXT NOT NULL, action TEXT NOT NULL,
                                        onset INTEGER, offset INTEGER, category INTEGER, time TEXT NOT NULL);
"""


class NotFound(Exception):
    """Nothing the caller may see is there (an unknown id and another annotator's look the same)."""


class Refused(Exception):
    """A request the caller may make, but not with these values (the message says why)."""


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a worker (crowd or professional) or the admin (``worker_id`` None)."""

    worker_id: str | None
    role: str  # crowd | professional | admin

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_store(database: str | Path, create: bool = False) -> sqlite3.Connection:
    """The annotation database (see :func:`dfer.curation.annotation.connect`) with the web tables
    (and those of :mod:`dfer.web.marking`)."""
    connection = connect(database, create=create)
    connection.executescript(WEB_SCHEMA)
    return connection


def issue_tokens(database: str | Path) -> list[dict]:
    """A new random token for every worker and one for the admin, replacing any issued before (their
    sessions end). Returns ``[{"worker_id", "role", "token"}]``; only the hashes are stored."""
    with open_store(database) as connection:
        workers = connection.execute("SELECT worker_id, role FROM workers ORDER BY worker_id").fetchall()
        if not workers:
            raise DatasetError(database, "has no workers; add them with dfer annotate plan")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("DELETE FROM access")
        issued = []
        for worker_id, role in [*workers, (None, "admin")]:
            token = secrets.token_urlsafe(32)
            connection.execute("INSERT INTO access VALUES (?, ?, ?, ?)",
                               (digest(token), worker_id, "admin" if worker_id is None else "annotator", now()))
            issued.append({"worker_id": worker_id, "role": role, "token": token})
    connection.close()
    return issued


def login(connection: sqlite3.Connection, token: str) -> str | None:
    """A new session id for a valid ``token`` (None otherwise)."""
    row = connection.execute("SELECT token_hash FROM access WHERE token_hash = ?", (digest(token),)).fetchone()
    if row is None:
        return None
    session = secrets.token_urlsafe(32)
    with connection:
        connection.execute("INSERT INTO sessions VALUES (?, ?, ?)", (digest(session), row[0], now()))
    return session


def caller(connection: sqlite3.Connection, session: str | None) -> Caller | None:
    """The caller a session cookie stands for (None for a missing, unknown or revoked session)."""
    if not session:
        return None
    row = connection.execute(
        "SELECT access.worker_id, access.role, workers.role FROM sessions JOIN access USING (token_hash) "
        "LEFT JOIN workers ON workers.worker_id = access.worker_id WHERE session_hash = ?",
        (digest(session),)).fetchone()
    if row is None:
        return None
    worker_id, access_role, worker_role = row
    return Caller(None, "admin") if access_role == "admin" else Caller(worker_id, worker_role)


#: The copy id under which a professional sees their queue: the improper copies' clips to relabel.
RELABEL = "relabel"
_RELABEL_TASKS = ("SELECT tasks.task_id, tasks.copy_id, COALESCE(clip_media.file, clips.path) AS path, clip_media.fps "
                  "FROM tasks JOIN decisions USING (copy_id) JOIN clips USING (clip_id) LEFT JOIN clip_media "
                  "USING (clip_id) WHERE decision = 'improper' AND clips.gold IS NULL")
#: The frame rate assumed for a clip not ingested (``dfer annotate media``), for the page's frame steps.
DEFAULT_FPS = 25.0


def copies(connection: sqlite3.Connection, who: Caller) -> list[dict]:
    """The caller's copies: hidden copy id, tasks answered, total, submitted. A professional has one,
    :data:`RELABEL`: the clips of the copies quality control found improper (FERV39k's
    professionals relabel those; their answers weigh 2 in the aggregation)."""
    if who.role == "professional":
        queue = tasks(connection, who, RELABEL)
        return [{"copy_id": RELABEL, "total": len(queue), "answered": sum(t["word"] is not None for t in queue),
                 "submitted": False}] if queue else []
    rows = connection.execute(
        "SELECT copies.copy_id, COUNT(tasks.task_id), COUNT(answers.task_id), submissions.copy_id IS NOT NULL "
        "FROM copies JOIN tasks USING (copy_id) LEFT JOIN answers ON answers.task_id = tasks.task_id "
        "AND answers.worker_id = copies.worker_id LEFT JOIN submissions ON submissions.copy_id = copies.copy_id "
        "WHERE copies.worker_id = ? GROUP BY copies.copy_id ORDER BY copies.group_id, copies.copy",
        (who.worker_id,)).fetchall()
    return [{"copy_id": c, "total": total, "answered": answered, "submitted": bool(done)}
            for c, total, answered, done in rows]


def tasks(connection: sqlite3.Connection, who: Caller, copy_id: str) -> list[dict]:
    """The tasks of one of the caller's copies in its shuffled order, with the caller's answers so
    far: ``[{"task_id", "position", "word"}]``. Clip ids, paths and gold labels are not in it."""
    if who.role == "professional" and copy_id == RELABEL:
        rows = connection.execute(
            f"SELECT queue.task_id, answers.word, queue.fps FROM ({_RELABEL_TASKS}) AS queue LEFT JOIN answers ON "
            "answers.task_id = queue.task_id AND answers.worker_id = ? ORDER BY queue.copy_id, queue.task_id",
            (who.worker_id,)).fetchall()
        return [{"task_id": t, "position": p, "word": w, "fps": fps or DEFAULT_FPS}
                for p, (t, w, fps) in enumerate(rows)]
    owner = connection.execute("SELECT worker_id FROM copies WHERE copy_id = ?", (copy_id,)).fetchone()
    if owner is None or owner[0] != who.worker_id:
        raise NotFound(copy_id)
    rows = connection.execute(
        "SELECT tasks.task_id, tasks.position, answers.word, clip_media.fps FROM tasks LEFT JOIN answers ON "
        "answers.task_id = tasks.task_id AND answers.worker_id = ? LEFT JOIN clip_media USING (clip_id) "
        "WHERE copy_id = ? ORDER BY position", (who.worker_id, copy_id))
    return [{"task_id": t, "position": p, "word": w, "fps": fps or DEFAULT_FPS} for t, p, w, fps in rows]


def _own_task(connection: sqlite3.Connection, who: Caller, task_id: str) -> tuple[str, str]:
    """(copy id, file served) of a task in one of the caller's copies (a professional's: in their
    relabelling queue; copy id :data:`RELABEL`) — the clip's ingested copy, else the clip; NotFound
    otherwise."""
    if who.role == "professional":
        row = connection.execute(f"SELECT path FROM ({_RELABEL_TASKS}) WHERE task_id = ?", (task_id,)).fetchone()
        if row is None:
            raise NotFound(task_id)
        return RELABEL, row[0]
    row = connection.execute(
        "SELECT tasks.copy_id, COALESCE(clip_media.file, clips.path), copies.worker_id FROM tasks JOIN copies "
        "USING (copy_id) JOIN clips USING (clip_id) LEFT JOIN clip_media USING (clip_id) WHERE task_id = ?",
        (task_id,)).fetchone()
    if row is None or row[2] != who.worker_id:
        raise NotFound(task_id)
    return row[0], row[1]


def save_answer(connection: sqlite3.Connection, who: Caller, task_id: str, word: str, words: dict[str, str]) -> str:
    """Store the caller's answer to a task of theirs: "stored" (first answer), "updated" (a change,
    kept in ``answer_history``) or "unchanged" (the same word again: nothing written). A submitted
    copy's answers can no longer change."""
    copy_id, _ = _own_task(connection, who, task_id)
    key = word.strip().lower()
    if key not in words:
        raise Refused(f"{word!r} is not in the vocabulary")
    chosen = "PASS" if words[key] == "PASS" else key
    with connection:
        connection.execute("BEGIN IMMEDIATE")  # read and write under one lock: concurrent saves serialise
        if connection.execute("SELECT 1 FROM submissions WHERE copy_id = ?", (copy_id,)).fetchone():
            raise Refused("this copy is submitted; its answers can no longer change")
        old = connection.execute("SELECT word FROM answers WHERE task_id = ? AND worker_id = ?",
                                 (task_id, who.worker_id)).fetchone()
        if old is not None and old[0] == chosen:
            return "unchanged"
        time = now()
        connection.execute(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id, worker_id) DO UPDATE SET "
            "word = excluded.word, label = excluded.label, time = excluded.time",
            (task_id, who.worker_id, chosen, words[key], time))
        connection.execute("INSERT INTO answer_history VALUES (?, ?, ?, ?, ?)",
                           (task_id, who.worker_id, None if old is None else old[0], chosen, time))
    return "stored" if old is None else "updated"


def submit(connection: sqlite3.Connection, who: Caller, copy_id: str) -> None:
    """Declare one of the caller's copies finished; refused while a task is unanswered. Submitting
    twice is the same as once. A professional's queue is never submitted: its answers count as given."""
    if copy_id == RELABEL:
        raise Refused("the relabelling queue is not submitted: every answer counts as soon as it is given")
    pending = [t["position"] + 1 for t in tasks(connection, who, copy_id) if t["word"] is None]
    if pending:
        raise Refused(f"{len(pending)} clip(s) still unanswered (numbers {', '.join(map(str, pending[:10]))})")
    with connection:
        connection.execute("INSERT OR IGNORE INTO submissions VALUES (?, ?)", (copy_id, now()))


def media_file(connection: sqlite3.Connection, who: Caller, task_id: str, root: Path) -> Path:
    """The clip file of a task of the caller's, which must lie inside ``root`` (a stored path that
    leads outside it, by ``..`` or a link, is refused like an unknown task)."""
    _, stored = _own_task(connection, who, task_id)
    return inside(root, stored, task_id)


def inside(root: Path, stored: str, name: str) -> Path:
    """The file ``stored`` names under ``root``; NotFound(``name``) if it leads outside (by ``..``
    or a link) or is not there."""
    root = Path(root).resolve()
    path = (root / stored).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(name)
    return path
