"""FERV39k's annotation workflow on an embedded SQLite database (WAL mode).

Tables: ``clips`` (clip_id, path, scene, gold — the professional label of gold items), ``workers``
(worker_id, role: crowd | professional), ``copies`` (each group copied ``copies`` times, one crowd
worker each), ``tasks`` (a hidden id per clip per copy, in shuffled order), ``answers`` (task,
worker, the word chosen, its expression, time), ``decisions`` (QC per copy) and ``labels`` (the
aggregated label per clip and method). Steps:

* :func:`plan` — split clips into groups, mix ``gold_share`` gold items into each, copy each group
  ``copies`` times under hidden ids, shuffle, assign each copy to a different crowd worker;
* :func:`import_answers` — answers from any platform (task, worker, label, time); every row is
  checked and the import is one transaction: any bad row rejects the whole file, naming the rows;
* :func:`quality_control` — per copy, the correct rate on gold items → ``unacceptable`` (< 40%:
  back to the crowd), ``improper`` (40–80%: professionals relabel), ``accept`` (≥ 80%);
* :func:`aggregate_labels` — answers of accepted and improper copies plus professional answers
  (weight 2) → one label per clip with :func:`dfer.curation.aggregate.aggregate`.

The vocabulary is a data file of (word, expression) rows — by default ``data/ferv39k_words.csv``,
26 words in the spirit of Parrott's taxonomy (the paper's own list is not published) — plus
``PASS``; answers may also give an expression name directly.
"""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.curation.aggregate import aggregate
from dfer.errors import DatasetError, InputError

VOCABULARY = Path(__file__).parent / "data" / "ferv39k_words.csv"
#: Annotation modes: FERV39k's 26 words with gold items, or DFEW's vote over the 7 classes.
MODES = ("ferv39k", "dfew")
PASS = "PASS"
SCHEMA = """
CREATE TABLE IF NOT EXISTS clips(clip_id TEXT PRIMARY KEY, path TEXT NOT NULL, scene TEXT NOT NULL DEFAULT '',
                                 gold TEXT);
CREATE TABLE IF NOT EXISTS workers(worker_id TEXT PRIMARY KEY,
                                   role TEXT NOT NULL CHECK (role IN ('crowd', 'professional')));
CREATE TABLE IF NOT EXISTS copies(copy_id TEXT PRIMARY KEY, group_id INTEGER NOT NULL, copy INTEGER NOT NULL,
                                  worker_id TEXT NOT NULL REFERENCES workers, replaces TEXT REFERENCES copies);
CREATE TABLE IF NOT EXISTS tasks(task_id TEXT PRIMARY KEY, copy_id TEXT NOT NULL REFERENCES copies,
                                 clip_id TEXT NOT NULL REFERENCES clips, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS answers(task_id TEXT NOT NULL REFERENCES tasks, worker_id TEXT NOT NULL REFERENCES workers,
                                   word TEXT NOT NULL, label TEXT NOT NULL, time TEXT NOT NULL DEFAULT '',
                                   PRIMARY KEY (task_id, worker_id));
CREATE TABLE IF NOT EXISTS decisions(copy_id TEXT PRIMARY KEY REFERENCES copies, gold_answered INTEGER NOT NULL,
                                     gold_correct INTEGER NOT NULL, rate REAL, decision TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels(clip_id TEXT NOT NULL REFERENCES clips, method TEXT NOT NULL, label TEXT NOT NULL,
                                  confidence REAL NOT NULL, PRIMARY KEY (clip_id, method));
"""


class AnnotationError(InputError):
    """Rows that cannot be imported; ``problems`` lists them (row numbers count the header as 1)."""

    def __init__(self, source: str, problems: list[str]):
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"{source}: {len(problems)} problem(s), nothing imported:\n  {shown}")
        self.problems = problems


def vocabulary(path: str | Path = VOCABULARY) -> dict[str, str]:
    """``{word: expression}`` from a (word, expression) CSV, plus each expression name and PASS."""
    table = pd.read_csv(path, dtype=str)
    words = {str(w).strip().lower(): str(e).strip().lower() for w, e in zip(table.word, table.expression)}
    unknown = sorted(set(words.values()) - set(labels.EXPRESSIONS))
    if unknown:
        raise InputError(f"{path}: expressions {unknown} are not among {labels.EXPRESSIONS}")
    return {**{name: name for name in labels.EXPRESSIONS}, **words, PASS.lower(): PASS}


def connect(path: str | Path, create: bool = False) -> sqlite3.Connection:
    """Open an annotation database in WAL mode; only ``create`` (``dfer annotate plan``) makes a new
    one, so a mistyped ``--db`` is refused instead of read as an empty store. A file that is not an
    SQLite database, or a folder, is refused naming it."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(path, "is a folder; expected an annotation database file (made by dfer annotate plan)")
    if not create and not path.is_file():
        raise DatasetError(path, "no such annotation database; make one with dfer annotate plan")
    try:
        connection = sqlite3.connect(str(path), timeout=60)  # a concurrent writer holds the lock a while
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(SCHEMA)
    except sqlite3.DatabaseError as error:
        raise DatasetError(path, f"not an annotation database (SQLite: {error})") from None
    return connection


def annotation_mode(connection: sqlite3.Connection) -> str:
    """The mode the database was planned in (:data:`MODES`; ``ferv39k`` for one planned before modes)."""
    row = connection.execute("SELECT value FROM settings WHERE key = 'mode'").fetchone()
    return row[0] if row else "ferv39k"


@dataclass(frozen=True)
class PlanOptions:
    """How clips become group copies (FERV39k: 5% gold, 3 copies; DFEW: ``mode="dfew"``, the 7
    classes voted by 10 annotators per clip, no gold, ``gold_share=0``)."""

    group_size: int = 100
    gold_share: float = 0.05
    copies: int = 3
    seed: int = 0
    mode: str = "ferv39k"


def check_clips(clips: pd.DataFrame, source: str = "clips", words: dict[str, str] | None = None) -> pd.DataFrame:
    """The clip table of :func:`plan`, checked row by row (row numbers count the header as 1):
    clip_id and path present, clip ids unique, gold labels in the vocabulary (normalised to the
    expression), and a clip marked ``is_gold`` has a gold label."""
    words = words or vocabulary()
    missing = {"clip_id", "path"} - set(clips.columns)
    if missing:
        raise AnnotationError(source, [f"row 1: missing column(s) {sorted(missing)}; expected clip_id, path[, scene, gold, is_gold]"])
    clips = clips.fillna("").astype(str).reset_index(drop=True)
    for column in ("scene", "gold", "is_gold"):
        if column not in clips:
            clips[column] = ""
    problems, seen = [], {}
    for number, clip in enumerate(clips.itertuples(), start=2):
        where = f"row {number}"
        if not clip.clip_id.strip() or not clip.path.strip():
            problems.append(f"{where}: empty clip_id or path")
        elif clip.clip_id in seen:
            problems.append(f"{where}: clip {clip.clip_id!r} already in row {seen[clip.clip_id]}")
        seen.setdefault(clip.clip_id, number)
        gold = clip.gold.strip().lower()
        if gold and words.get(gold, PASS) == PASS:
            problems.append(f"{where}: gold label {clip.gold!r} is not in the vocabulary")
        if clip.is_gold.strip().lower() in ("1", "true", "yes") and not gold:
            problems.append(f"{where}: clip {clip.clip_id!r} is marked as a gold item but has no gold label")
    if problems:
        raise AnnotationError(source, problems)
    return clips.assign(gold=[words[g.strip().lower()] if g.strip() else "" for g in clips.gold])


def check_workers(workers: pd.DataFrame, source: str = "workers") -> pd.DataFrame:
    """The worker table of :func:`plan` (worker_id, role: crowd | professional), checked row by row."""
    missing = {"worker_id", "role"} - set(workers.columns)
    if missing:
        raise AnnotationError(source, [f"row 1: missing column(s) {sorted(missing)}; expected worker_id, role"])
    workers = workers.fillna("").astype(str).reset_index(drop=True)
    problems = [f"row {n}: role {r!r} is not crowd or professional" for n, r in enumerate(workers.role, start=2)
                if r not in ("crowd", "professional")]
    repeated = workers.worker_id.duplicated()
    problems += [f"row {n}: worker {w!r} listed twice" if again else f"row {n}: empty worker_id"
                 for n, (w, again) in enumerate(zip(workers.worker_id, repeated), start=2) if again or not w.strip()]
    if problems:
        raise AnnotationError(source, problems)
    return workers


def plan(database: str | Path, clips: pd.DataFrame, workers: pd.DataFrame, options: PlanOptions = PlanOptions()
         ) -> pd.DataFrame:
    """Store clips and workers, build the group copies and return the task list for the platform
    (task, copy, worker, path — never the gold label). ``clips``: clip_id, path, optional scene and
    gold (professional label of the gold pool); ``workers``: worker_id, role."""
    rng = np.random.default_rng(options.seed)
    clips, workers = check_clips(clips), check_workers(workers)
    gold_pool = clips[clips.gold != ""]
    items = clips.drop(gold_pool.index)
    crowd = workers[workers.role == "crowd"].worker_id.astype(str).tolist()
    if len(crowd) < options.copies:
        raise InputError(f"{options.copies} copies per group need at least {options.copies} crowd workers, got {len(crowd)}")
    if options.mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {options.mode!r}")
    if gold_pool.empty and options.gold_share > 0:
        raise InputError("no gold items: give some clips a 'gold' label (professional annotation)")
    gold_per_group = max(int(round(options.gold_share * options.group_size)), 1) if options.gold_share > 0 else 0
    per_group = options.group_size - gold_per_group
    order = rng.permutation(len(items))
    paths = dict(zip(clips.clip_id, clips.path))
    tasks = []
    with closing(connect(database, create=True)) as connection, connection:
        connection.executemany("INSERT OR REPLACE INTO clips VALUES (?, ?, ?, ?)",
                               [(c.clip_id, c.path, getattr(c, "scene", ""), getattr(c, "gold", "") or None)
                                for c in clips.itertuples()])
        connection.executemany("INSERT OR REPLACE INTO workers VALUES (?, ?)",
                               workers[["worker_id", "role"]].astype(str).itertuples(index=False))
        connection.execute("INSERT OR REPLACE INTO settings VALUES ('mode', ?)", (options.mode,))
        start = connection.execute("SELECT COALESCE(MAX(group_id) + 1, 0) FROM copies").fetchone()[0]
        for number, first in enumerate(range(0, len(order), per_group)):
            group = start + number
            members = items.iloc[order[first:first + per_group]].clip_id.tolist()
            members += [] if not gold_per_group else gold_pool.clip_id.iloc[rng.choice(
                len(gold_pool), size=min(gold_per_group, len(gold_pool)), replace=False)].tolist()
            assigned = rng.choice(len(crowd), size=options.copies, replace=False)
            for copy in range(options.copies):
                copy_id = secrets.token_hex(6)
                tasks += _add_copy(connection, rng, copy_id, group, copy, crowd[assigned[copy]], members, paths)
    return pd.DataFrame(tasks)


def _add_copy(connection, rng, copy_id: str, group: int, copy: int, worker: str, members, paths: dict,
              replaces=None) -> list[dict]:
    """Store one copy of a group for ``worker``: its clips shuffled under new hidden task ids."""
    connection.execute("INSERT INTO copies VALUES (?, ?, ?, ?, ?)", (copy_id, group, copy, worker, replaces))
    tasks = []
    for position, clip_id in enumerate(rng.permutation(list(members))):
        task_id = secrets.token_hex(8)
        connection.execute("INSERT INTO tasks VALUES (?, ?, ?, ?)", (task_id, copy_id, clip_id, position))
        tasks.append({"task": task_id, "copy": copy_id, "worker": worker, "path": paths[clip_id]})
    return tasks


def reassign(database: str | Path, seed: int = 0) -> pd.DataFrame:
    """Send every unacceptable copy back to the crowd: a new copy of its group (new hidden ids, new
    order) for a crowd worker who has no copy of that group yet. Returns the new tasks (as
    :func:`plan`); a copy is replaced once, and its own answers stay out of the labels."""
    rng = np.random.default_rng(seed)
    with closing(connect(database)) as connection, connection:
        crowd = [w for (w,) in connection.execute("SELECT worker_id FROM workers WHERE role = 'crowd' ORDER BY worker_id")]
        bad = connection.execute(
            "SELECT copies.copy_id, copies.group_id FROM copies JOIN decisions USING (copy_id) "
            "WHERE decision = 'unacceptable' AND copies.copy_id NOT IN "
            "(SELECT replaces FROM copies WHERE replaces IS NOT NULL) ORDER BY copies.group_id, copies.copy").fetchall()
        paths = dict(connection.execute("SELECT clip_id, path FROM clips").fetchall())
        tasks = []
        for copy_id, group in bad:
            busy = {w for (w,) in connection.execute("SELECT worker_id FROM copies WHERE group_id = ?", (group,))}
            free = [w for w in crowd if w not in busy]
            if not free:
                raise InputError(f"group {group}: every crowd worker already has a copy of it; add workers to reassign")
            members = [c for (c,) in connection.execute("SELECT clip_id FROM tasks WHERE copy_id = ?", (copy_id,))]
            number = connection.execute("SELECT MAX(copy) + 1 FROM copies WHERE group_id = ?", (group,)).fetchone()[0]
            tasks += _add_copy(connection, rng, secrets.token_hex(6), group, number, free[rng.integers(len(free))],
                               members, paths, replaces=copy_id)
    return pd.DataFrame(tasks, columns=["task", "copy", "worker", "path"])


def group_report(per_copy: pd.DataFrame, database: str | Path) -> pd.DataFrame:
    """Per group: its copies by decision, the mean gold rate, and copies sent back (reassigned)."""
    with closing(connect(database)) as connection:
        copies = pd.read_sql_query("SELECT group_id, copy_id, replaces FROM copies", connection)
    table = pd.crosstab(per_copy.group_id, per_copy.decision).reindex(
        columns=["accept", "improper", "unacceptable"], fill_value=0)
    table["mean_rate"] = per_copy.groupby("group_id").rate.mean().round(4)
    table["copies"] = copies.groupby("group_id").size().reindex(table.index, fill_value=0)
    table["reassigned"] = copies.dropna(subset=["replaces"]).groupby("group_id").size().reindex(table.index,
                                                                                              fill_value=0)
    return table.reset_index()


def dump(database: str | Path, folder: str | Path, suffix: str = ".csv") -> list[Path]:
    """Every table of the database as CSV or Parquet (``suffix``) in ``folder``."""
    from dfer.io.atomic import write_table

    written = []
    with closing(connect(database)) as connection:
        for name in ("clips", "workers", "copies", "tasks", "answers", "decisions", "labels"):
            path = Path(folder) / f"{name}{suffix}"
            write_table(path, pd.read_sql_query(f"SELECT * FROM {name}", connection))
            written.append(path)
    return written


def relabel_tasks(database: str | Path) -> pd.DataFrame:
    """The tasks of improper copies (gold items left out) for professionals to relabel: answer
    them under the same task ids with a professional worker id."""
    with closing(connect(database)) as connection:
        return pd.read_sql_query(
            "SELECT tasks.task_id AS task, tasks.clip_id, clips.path FROM tasks JOIN decisions USING (copy_id) "
            "JOIN clips USING (clip_id) WHERE decision = 'improper' AND clips.gold IS NULL AND tasks.task_id NOT IN "
            "(SELECT task_id FROM answers JOIN workers USING (worker_id) WHERE role = 'professional') "
            "ORDER BY tasks.copy_id, tasks.position", connection)


def import_answers(database: str | Path, answers: pd.DataFrame, source: str = "answers",
                   words: dict[str, str] | None = None) -> int:
    """Check and store answers (task, worker, label[, time]) in one transaction; returns the count.

    Refused, with row numbers: unknown tasks or workers, crowd workers answering a copy that is not
    theirs, labels outside the vocabulary, the same (task, worker) twice in the file or already
    stored. Professionals may answer any task (their answers are the supplementary annotation).
    """
    words = words or vocabulary()
    missing = {"task", "worker", "label"} - set(answers.columns)
    if missing:
        raise AnnotationError(source, [f"row 1: missing column(s) {sorted(missing)}; expected task, worker, label[, time]"])
    answers = answers.fillna("").astype(str)
    with closing(connect(database)) as connection:
        # the write lock before reading: a concurrent import's answers are then seen (and named as duplicates)
        connection.execute("BEGIN IMMEDIATE")
        task_owner = dict(connection.execute(
            "SELECT tasks.task_id, copies.worker_id FROM tasks JOIN copies USING (copy_id)").fetchall())
        roles = dict(connection.execute("SELECT worker_id, role FROM workers").fetchall())
        stored = set(connection.execute("SELECT task_id, worker_id FROM answers").fetchall())
        problems, rows, seen = [], [], set()
        for number, row in enumerate(answers.itertuples(index=False), start=2):
            task, worker, word = row.task.strip(), row.worker.strip(), row.label.strip()
            where = f"row {number}"
            if task not in task_owner:
                problems.append(f"{where}: unknown task {task!r}")
            elif worker not in roles:
                problems.append(f"{where}: unknown worker {worker!r}")
            elif roles[worker] == "crowd" and task_owner[task] != worker:
                problems.append(f"{where}: task {task!r} belongs to worker {task_owner[task]!r}, not {worker!r}")
            if word.lower() not in words:
                problems.append(f"{where}: label {word!r} is not in the vocabulary (26 words, the 7 expressions or PASS)")
            if (task, worker) in seen or (task, worker) in stored:
                problems.append(f"{where}: duplicate answer of worker {worker!r} to task {task!r}")
            seen.add((task, worker))
            rows.append((task, worker, word, words.get(word.lower(), ""), getattr(row, "time", "")))
        with connection:  # commits, or rolls back (and releases the lock) on a refusal
            if problems:
                raise AnnotationError(source, problems)
            connection.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def quality_control(database: str | Path, low: float = 0.4, high: float = 0.8, copies=None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decide every answered copy (or only those in ``copies``: the web app's submitted ones) by its
    correct rate on gold items; returns (per copy, per worker)."""
    if not 0 <= low <= high <= 1:
        raise InputError(f"thresholds must satisfy 0 ≤ low ≤ high ≤ 1, got {low}, {high}")
    with closing(connect(database)) as connection:
        gold = pd.read_sql_query(
            "SELECT copies.copy_id, copies.group_id, copies.worker_id, answers.label = clips.gold AS correct "
            "FROM answers JOIN tasks USING (task_id) JOIN copies USING (copy_id) JOIN clips USING (clip_id) "
            "WHERE clips.gold IS NOT NULL AND answers.worker_id = copies.worker_id", connection)
        per_copy = gold.groupby(["copy_id", "group_id", "worker_id"]).correct.agg(["size", "sum"]).reset_index()
        per_copy.columns = ["copy_id", "group_id", "worker_id", "gold_answered", "gold_correct"]
        if copies is not None:
            per_copy = per_copy[per_copy.copy_id.isin(set(copies))].reset_index(drop=True)
        per_copy["rate"] = per_copy.gold_correct / per_copy.gold_answered
        per_copy["decision"] = np.select([per_copy.rate < low, per_copy.rate < high], ["unacceptable", "improper"],
                                         "accept")
        with connection:
            connection.execute("DELETE FROM decisions")
            connection.executemany("INSERT INTO decisions VALUES (?, ?, ?, ?, ?)",
                                   per_copy[["copy_id", "gold_answered", "gold_correct", "rate", "decision"]]
                                   .itertuples(index=False))
    per_worker = per_copy.groupby("worker_id").agg(copies=("copy_id", "size"), gold_answered=("gold_answered", "sum"),
                                                   gold_correct=("gold_correct", "sum"))
    per_worker["rate"] = per_worker.gold_correct / per_worker.gold_answered
    for decision in ("accept", "improper", "unacceptable"):
        per_worker[decision] = per_copy[per_copy.decision == decision].groupby("worker_id").size().reindex(
            per_worker.index, fill_value=0)
    return per_copy.sort_values(["group_id", "copy_id"], ignore_index=True), per_worker.reset_index()


def copy_agreement(database: str | Path, min_clips: int = 10) -> pd.Series:
    """Per crowd copy: the share of its answers to non-gold clips that match the other copies' label
    where those agree (a unique top label with at least two of their votes); PASS does not count.
    NaN (no verdict) where fewer than ``min_clips`` clips have such a label — as in a group whose
    other copies include a spammer."""
    with closing(connect(database)) as connection:
        answers = pd.read_sql_query(
            "SELECT copies.copy_id, tasks.clip_id, answers.label FROM answers JOIN tasks USING (task_id) "
            "JOIN copies USING (copy_id) JOIN clips USING (clip_id) WHERE answers.worker_id = copies.worker_id "
            "AND clips.gold IS NULL AND answers.label != ?", connection, params=(PASS,))
    counts = answers.groupby(["clip_id", "label"]).size().rename("votes").reset_index()
    matched, checked = {}, {}
    for copy_id, own in answers.groupby("copy_id"):
        others = counts.merge(own[["clip_id", "label"]].assign(mine=1), on=["clip_id", "label"], how="left")
        others = others[others.clip_id.isin(own.clip_id)]
        others["votes"] -= others.mine.fillna(0).astype(int)
        top = others.sort_values("votes", ascending=False).groupby("clip_id").head(2)
        best = top.groupby("clip_id").votes.max()
        unique = top.groupby("clip_id").votes.apply(lambda v: v.size == 1 or v.iloc[0] > v.iloc[1])
        reference = top.drop_duplicates("clip_id").set_index("clip_id").label[(best >= 2) & unique]
        mine = own.set_index("clip_id").label.reindex(reference.index)
        matched[copy_id], checked[copy_id] = int((mine == reference).sum()), len(reference)
    return pd.Series({c: matched[c] / checked[c] if checked[c] >= min_clips else np.nan for c in matched},
                     name="agreement", dtype=float)


def error_estimates(database: str | Path, low: float = 0.4) -> dict:
    """Capture–recapture estimate of the bad crowd copies (answer quality below ``low``).

    Two independent checks look at every answered copy, on different evidence: the gold check
    (correct rate on gold items < ``low``, as :func:`quality_control` decides) and the agreement
    check (:func:`copy_agreement` < ``low``, on the non-gold clips). From the copies caught by the
    first (n₁), by the second (n₂) and by both (m), Chapman's N̂ = (n₁+1)(n₂+1)/(m+1) − 1 estimates
    the bad copies in all, and N̂ − (n₁ + n₂ − m) those neither check caught (their answers remain
    in the labels). ``kept_but_disagreeing`` lists the copies kept by the gold check that the
    agreement check flags — candidates for a second look.
    """
    from dfer.curation.agreement import chapman, remaining_errors

    with closing(connect(database)) as connection:
        decisions = pd.read_sql_query("SELECT copy_id, rate, decision FROM decisions", connection).set_index("copy_id")
    if decisions.empty:
        raise InputError("no quality-control decisions yet: import answers and run quality control first")
    agreement = copy_agreement(database).reindex(decisions.index)
    gold_flag, agreement_flag = decisions.rate < low, agreement < low
    first, second, both = int(gold_flag.sum()), int(agreement_flag.sum()), int((gold_flag & agreement_flag).sum())
    return {"copies": int(len(decisions)), "threshold": low, "caught_by_gold": first, "caught_by_agreement": second,
            "caught_by_both": both, "bad_copies_estimate": round(chapman(first, second, both), 2),
            "bad_copies_uncaught": round(remaining_errors(first, second, both), 2),
            "kept_but_disagreeing": sorted(decisions.index[agreement_flag & ~gold_flag]),
            "agreement": {c: (None if np.isnan(v) else round(float(v), 4)) for c, v in agreement.items()}}


def usable_answers(database: str | Path) -> pd.DataFrame:
    """The answers labels are made from: (task = clip_id, worker, label, role) of accepted and
    improper copies and of professionals, on non-gold clips, PASS left out."""
    with closing(connect(database)) as connection:
        answers = pd.read_sql_query(
            "SELECT tasks.clip_id AS task, answers.worker_id AS worker, answers.label, workers.role, "
            "decisions.decision FROM answers JOIN tasks USING (task_id) JOIN workers ON workers.worker_id = answers.worker_id "
            "LEFT JOIN decisions USING (copy_id) JOIN clips USING (clip_id) WHERE clips.gold IS NULL", connection)
    usable = answers[(answers.label != PASS) & ((answers.role == "professional")
                                               | answers.decision.isin(["accept", "improper"]))]
    if usable.empty:
        raise InputError("no usable answers: import answers and run quality control first")
    return usable.drop(columns="decision").reset_index(drop=True)


def aggregate_labels(database: str | Path, method: str = "wta", professional_weight: float = 2.0) -> pd.DataFrame:
    """One label per clip from :func:`usable_answers` (professionals weigh ``professional_weight``
    in ``wta``). Stored in ``labels``."""
    usable = usable_answers(database)
    with closing(connect(database)) as connection:
        weighted = usable.assign(weight=np.where(usable.role == "professional", professional_weight, 1.0))
        result = aggregate(weighted[["task", "worker", "label", "weight"]], method)
        with connection:
            connection.execute("DELETE FROM labels WHERE method = ?", (method,))
            connection.executemany("INSERT INTO labels VALUES (?, ?, ?, ?)",
                                   [(r.task, method, r.label, float(r.confidence)) for r in result.itertuples()])
    return result.rename(columns={"task": "clip_id"})
