"""Long-video expression intervals: our JSON format, CAS(ME)^2 and SAMM Long Videos spreadsheets,
and ActivityNet JSON — all read into one interval table.

Interval table (:data:`COLUMNS`), one row per interval: ``video, subject, split, annotator``
(``final`` for the aggregated intervals), ``onset, offset`` (0-based frame indices, inclusive),
``apex`` (−1 when unknown), ``category`` (as the source names it), ``expression`` (dfer's canonical
name where the category maps to one, else empty), ``kind`` (macro / micro / empty), ``fps``,
``frames``.

Our format (``dfer-long-video``, version 1)::

    {"format": "dfer-long-video", "version": 1,
     "videos": {"<video>": {"fps": 25.0, "frames": 1500, "subject": "s01", "split": "train",
                            "annotators": {"a1": [[onset, offset, category], …], …},
                            "final": [[onset, offset, category], …]}}}

Categories are expression names (``happy`` …) or SDFE-LV's codes 1–6. Frames are 0-based and
inclusive. Times in ActivityNet JSON: frame ``f`` covers ``[f / fps, (f + 1) / fps)``, so
``[onset, offset]`` ↔ ``[onset / fps, (offset + 1) / fps]`` — a round trip is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.errors import DatasetError
from dfer.io.atomic import atomic_path

FORMAT, VERSION = "dfer-long-video", 1
COLUMNS = ["video", "subject", "split", "annotator", "onset", "offset", "apex", "category", "expression", "kind",
           "fps", "frames"]
FINAL = "final"


def expression_of(category) -> str:
    """dfer's expression name for a category (a name, a synonym or an SDFE-LV code 1–6), or ""."""
    if isinstance(category, (int, np.integer)) or (isinstance(category, str) and category.strip().isdigit()):
        try:
            return labels.EXPRESSIONS[labels.from_sdfe_lv(int(category))]
        except ValueError:
            return ""
    try:
        return labels.EXPRESSIONS[labels.canonical(str(category))]
    except ValueError:
        return ""


def check_intervals(table: pd.DataFrame, source: str, known_only: bool = True) -> pd.DataFrame:
    """Refuse intervals with offset before onset, outside the video, or (``known_only``) with a
    category that is no expression; every problem names the video, annotator and interval."""
    problems = []
    for row in table.itertuples():
        where = f"video {row.video!r}, annotator {row.annotator!r}, interval [{row.onset}, {row.offset}]"
        if row.onset < 0 or row.offset < row.onset:
            problems.append(f"{where}: offset before onset (or a negative onset)")
        elif row.frames and row.offset >= row.frames:
            problems.append(f"{where}: beyond the video's {row.frames} frames")
        if known_only and not row.expression:
            problems.append(f"{where}: unknown category {row.category!r} (expected {', '.join(labels.EXPRESSIONS)} "
                            "or SDFE-LV codes 1–6)")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise DatasetError(source, f"{len(problems)} bad interval(s):\n  {shown}")
    return table


def read_long_videos(path: str | Path) -> pd.DataFrame:
    """The interval table of a ``dfer-long-video`` JSON file (checked)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(path, f"cannot read as JSON ({error})") from None
    if data.get("format") != FORMAT or "videos" not in data:
        raise DatasetError(path, f"not a {FORMAT} file (expected keys format={FORMAT!r} and videos)")
    rows = []
    for video, entry in data["videos"].items():
        if not isinstance(entry, dict) or "fps" not in entry or "frames" not in entry:
            raise DatasetError(path, f"video {video!r}: needs fps and frames")
        if not (_number(entry["fps"]) and entry["fps"] > 0):
            raise DatasetError(path, f"video {video!r}: fps must be a positive number, got {entry['fps']!r}")
        lists = dict(entry.get("annotators", {}))
        if "final" in entry:
            lists[FINAL] = entry["final"]
        for annotator, intervals in lists.items():
            for number, interval in enumerate(intervals):
                if not isinstance(interval, (list, tuple)) or len(interval) != 3:
                    raise DatasetError(path, f"video {video!r}, annotator {annotator!r}, interval {number}: expected "
                                             f"[onset, offset, category], got {interval!r}")
                onset, offset, category = interval
                rows.append({"video": str(video), "subject": str(entry.get("subject", "")),
                             "split": str(entry.get("split", "")), "annotator": str(annotator), "onset": int(onset),
                             "offset": int(offset), "apex": -1, "category": str(category),
                             "expression": expression_of(category), "kind": "", "fps": float(entry["fps"]),
                             "frames": int(entry["frames"])})
    return check_intervals(pd.DataFrame(rows, columns=COLUMNS), str(path))


def write_long_videos(path: str | Path, table: pd.DataFrame, videos: pd.DataFrame | None = None) -> None:
    """Write an interval table (and optionally a video table with fps, frames, subject, split for
    videos without intervals) as a ``dfer-long-video`` JSON file, atomically."""
    entries: dict[str, dict] = {}
    facts = pd.concat([table[["video", "subject", "split", "fps", "frames"]],
                       videos[["video", "subject", "split", "fps", "frames"]] if videos is not None else None])
    for row in facts.drop_duplicates("video").itertuples():
        entries[row.video] = {"fps": float(row.fps), "frames": int(row.frames), "subject": row.subject,
                              "split": row.split, "annotators": {}}
    for row in table.itertuples():
        item = [int(row.onset), int(row.offset), row.expression or row.category]
        if row.annotator == FINAL:
            entries[row.video].setdefault("final", []).append(item)
        else:
            entries[row.video]["annotators"].setdefault(row.annotator, []).append(item)
    with atomic_path(path) as partial:
        partial.write_text(json.dumps({"format": FORMAT, "version": VERSION, "videos": entries}, indent=1))


def read_casme2(path: str | Path, fps: float = 30.0) -> pd.DataFrame:
    """CAS(ME)^2's ``CAS(ME)^2code_final.xlsx``: first sheet without header (participant,
    ``<stimulus>_<n>``, onset, apex, offset, AUs, estimated emotion, type, self-report; 1-based
    frames, offset 0 = use the apex). Sheets 2 and 3, where present, map participant numbers and
    stimulus names to the folder codes that name the videos (``<subject>_<stimulus code>``, a numeric
    code padded to 4 digits as in the folder names, e.g. ``s15_0101``)."""
    path = Path(path)
    sheets = _excel(path, header=None)
    first = sheets[0]
    if first.shape[1] < 8:
        raise DatasetError(path, f"expected 9 columns in the first sheet, found {first.shape[1]}", row=1)
    subjects = _mapping(sheets[1]) if len(sheets) > 1 else {}
    stimuli = _mapping(sheets[2]) if len(sheets) > 2 else {}
    rows = []
    for number, values in enumerate(first.itertuples(index=False), start=1):
        participant, name, onset, apex, offset, _, emotion, kind = list(values)[:8]
        try:
            onset, apex, offset = int(onset), int(apex), int(offset)
        except (TypeError, ValueError):
            raise DatasetError(path, f"onset/apex/offset must be frame numbers, got {onset!r}, {apex!r}, {offset!r}",
                               row=number) from None
        offset = offset or apex
        subject = subjects.get(str(participant).strip(), str(participant).strip())
        stimulus = str(name).strip().rsplit("_", 1)[0]
        code = stimuli.get(stimulus, stimulus)
        video = f"{subject}_{code.zfill(4) if code.isdigit() else code}"  # folder codes are 4 digits: 0101
        rows.append({"video": video, "subject": subject, "split": "", "annotator": FINAL, "onset": onset - 1,
                     "offset": offset - 1, "apex": apex - 1, "category": str(emotion).strip(),
                     "expression": expression_of(str(emotion).strip()),
                     "kind": "micro" if "micro" in str(kind).lower() else "macro", "fps": fps, "frames": 0})
    return check_intervals(pd.DataFrame(rows, columns=COLUMNS), str(path), known_only=False)


def read_samm_long(path: str | Path, fps: float = 200.0) -> pd.DataFrame:
    """SAMM Long Videos' ``SAMM_LongVideos_V*_Release.xlsx``: 10 rows skipped, then the header
    (Subject, Filename ``006_1_2`` = subject_video_expression, Inducement Code, Onset, Apex, Offset,
    Duration, Type ``Macro``/``Micro - 1/2``, Action Units, Notes); 1-based frames, apex −1 when
    unknown; the video is ``<subject>_<video>``."""
    path = Path(path)
    sheet = _excel(path, header=0, skiprows=10)[0]
    sheet.columns = [str(c).strip().lower() for c in sheet.columns]
    missing = {"subject", "filename", "onset", "apex", "offset", "type"} - set(sheet.columns)
    if missing:
        raise DatasetError(path, f"missing column(s) {sorted(missing)} after the 10 skipped rows", row=11)
    rows = []
    for number, row in enumerate(sheet.to_dict("records"), start=12):
        try:
            onset, apex, offset = int(row["onset"]), int(row["apex"]), int(row["offset"])
        except (TypeError, ValueError):
            raise DatasetError(path, "onset/apex/offset must be frame numbers", row=number) from None
        parts = str(row["filename"]).strip().split("_")
        video = "_".join(parts[:2])
        subject = str(row["subject"]).strip().zfill(3)
        rows.append({"video": video, "subject": subject, "split": "", "annotator": FINAL, "onset": onset - 1,
                     "offset": (offset or apex) - 1, "apex": apex - 1 if apex > 0 else -1, "category": "",
                     "expression": "", "kind": "micro" if "micro" in str(row["type"]).lower() else "macro",
                     "fps": fps, "frames": 0})
    return check_intervals(pd.DataFrame(rows, columns=COLUMNS), str(path), known_only=False)


def assign_splits(path: str | Path, out: str | Path | None = None, seed: int = 0) -> dict[str, int]:
    """Give every video of a ``dfer-long-video`` file a subject-independent split (6:2:2 of the
    videos, whole subjects per split, :func:`dfer.data.splits.subject_splits`); a video without a
    subject counts as its own.
    Writes ``out`` (default: the file itself, atomically); returns videos per split."""
    from dfer.data.splits import subject_splits

    path = Path(path)
    read_long_videos(path)  # refuse a malformed file before changing anything
    data = _json(path)
    subjects = {video: entry.get("subject") or f"video:{video}" for video, entry in data["videos"].items()}
    splits = subject_splits(list(subjects.values()), seed)
    for video, entry in data["videos"].items():
        entry["split"] = splits[subjects[video]]
    with atomic_path(out or path) as partial:
        partial.write_text(json.dumps(data, indent=1))
    counts = {name: 0 for name in ("train", "validation", "test")}
    for entry in data["videos"].values():
        counts[entry["split"]] += 1
    return counts


def to_activitynet(table: pd.DataFrame, annotator: str = FINAL) -> dict:
    """ActivityNet ground-truth JSON of one annotator's intervals (default the final ones)."""
    database = {}
    for video, rows in table.groupby("video", sort=False):
        first = rows.iloc[0]
        chosen = rows[rows.annotator == annotator]
        database[video] = {"duration": first.frames / first.fps if first.frames else None, "fps": float(first.fps),
                           "subset": first.split or "all",
                           "annotations": [{"segment": [r.onset / r.fps, (r.offset + 1) / r.fps],
                                            "label": r.expression or r.category or "expression"}
                                           for r in chosen.itertuples()]}
    return {"version": "dfer", "database": database}


def from_activitynet(data: dict, fps: dict[str, float] | float | None = None, source: str = "ground truth"
                     ) -> pd.DataFrame:
    """The interval table of ActivityNet ground truth; frames need each video's fps (from the
    entry's ``fps``, else ``fps``)."""
    if "database" not in data:
        raise DatasetError(source, "not ActivityNet ground truth (no 'database' key)")
    rows = []
    for video, entry in data["database"].items():
        rate = entry.get("fps") or (fps.get(video) if isinstance(fps, dict) else fps)
        if not rate:
            raise DatasetError(source, f"video {video!r}: no fps to turn times into frames")
        frames = int(round(entry["duration"] * rate)) if entry.get("duration") else 0
        for item in entry.get("annotations", []):
            start, end = item["segment"]
            rows.append({"video": video, "subject": "", "split": entry.get("subset", ""), "annotator": FINAL,
                         "onset": int(round(start * rate)), "offset": int(round(end * rate)) - 1, "apex": -1,
                         "category": str(item.get("label", "")), "expression": expression_of(item.get("label", "")),
                         "kind": "", "fps": float(rate), "frames": frames})
    return check_intervals(pd.DataFrame(rows, columns=COLUMNS), source, known_only=False)


def ground_truth_segments(path: str | Path, subset: str | None = None) -> pd.DataFrame:
    """Ground truth for evaluation, ``video, t_start, t_end, onset, offset, fps``, from ActivityNet
    JSON or a ``dfer-long-video`` file (its final intervals), optionally one subset/split."""
    path = Path(path)
    data = _json(path)
    if data.get("format") == FORMAT:
        table = read_long_videos(path)
        table = table[table.annotator == FINAL]
        if table.empty:
            raise DatasetError(path, "no final intervals (aggregate the annotators first: dfer annotate intervals)")
        segments = table.assign(t_start=table.onset / table.fps, t_end=(table.offset + 1) / table.fps)
        if subset:
            segments = segments[segments.split == subset]
    elif "database" in data:
        segments = pd.DataFrame(_activitynet_rows(path, data["database"], subset),
                                columns=["video", "t_start", "t_end", "fps", "subset"])
        with np.errstate(invalid="ignore"):
            rate = segments.fps.astype(float)
        segments["onset"] = np.round(segments.t_start * rate)
        segments["offset"] = np.round(segments.t_end * rate) - 1
    else:
        raise DatasetError(path, f"expected ActivityNet ground truth ('database') or a {FORMAT} file")
    if segments.empty:
        raise DatasetError(path, "no ground-truth segments" + (f" in subset {subset!r}" if subset else ""))
    bad = segments[segments.t_end < segments.t_start]
    if len(bad):
        raise DatasetError(path, f"video {bad.video.iloc[0]!r}: segment [{bad.t_start.iloc[0]}, {bad.t_end.iloc[0]}] "
                                 "ends before it starts")
    return segments[["video", "t_start", "t_end", "onset", "offset", "fps"]].reset_index(drop=True)


def _activitynet_rows(path: Path, database, subset: str | None) -> list[dict]:
    """Ground-truth segments of an ActivityNet ``database``, each checked: two finite numbers, the
    end at or after the start, a positive fps where one is given."""
    if not isinstance(database, dict):
        raise DatasetError(path, "'database' must map each video to {'annotations': [{'segment': [t0, t1]}, …]}")
    rows = []
    for video, entry in database.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("annotations", []), list):
            raise DatasetError(path, f"video {video!r}: expected {{'annotations': [{{'segment': [t0, t1]}}, …]}}")
        fps = entry.get("fps")
        if fps is not None and not (_number(fps) and fps > 0):
            raise DatasetError(path, f"video {video!r}: fps must be a positive number, got {fps!r}")
        if subset is not None and entry.get("subset") != subset:
            continue
        for number, item in enumerate(entry.get("annotations", [])):
            segment = item.get("segment") if isinstance(item, dict) else None
            if not (isinstance(segment, (list, tuple)) and len(segment) == 2 and all(map(_number, segment))):
                raise DatasetError(path, f"video {video!r}, annotation {number}: expected {{'segment': [t0, t1]}} "
                                         f"with finite numbers, got {item!r}")
            rows.append({"video": video, "t_start": float(segment[0]), "t_end": float(segment[1]), "fps": fps,
                         "subset": entry.get("subset", "")})
    return rows


def read_proposals(path: str | Path) -> pd.DataFrame:
    """Proposals ``video, t_start, t_end, score`` in file order from ActivityNet results JSON; a
    segment that is not two finite numbers with the end at or after the start, or a score that is
    not a finite number, is refused naming the video and the proposal."""
    path = Path(path)
    data = _json(path)
    if not isinstance(data, dict) or "results" not in data:
        raise DatasetError(path, "not ActivityNet results (no 'results' key)")
    if not isinstance(data["results"], dict):
        raise DatasetError(path, "'results' must map each video to a list of proposals "
                                 "{video: [{'segment': [t0, t1], 'score': x}, …]}")
    videos, starts, ends, scores = [], [], [], []
    for video, items in data["results"].items():
        if not isinstance(items, list):
            raise DatasetError(path, f"video {video!r}: expected a list of proposals, got {items!r}")
        for number, item in enumerate(items):
            where = f"video {video!r}, proposal {number}"
            segment = item.get("segment") if isinstance(item, dict) else None
            score = item.get("score") if isinstance(item, dict) else None
            if not (isinstance(segment, (list, tuple)) and len(segment) == 2 and all(map(_number, segment))
                    and _number(score)):
                raise DatasetError(path, f"{where}: expected {{'segment': [t0, t1], 'score': x}} with finite "
                                         f"numbers, got {item!r}")
            if segment[1] < segment[0]:
                raise DatasetError(path, f"{where}: segment {list(segment)} ends before it starts")
            videos.append(video)
            starts.append(float(segment[0]))
            ends.append(float(segment[1]))
            scores.append(float(score))
    return pd.DataFrame({"video": videos, "t_start": starts, "t_end": ends, "score": scores})


def _number(value) -> bool:
    """A finite JSON number (not a string, a boolean or null)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def write_proposals(path: str | Path, proposals: pd.DataFrame) -> None:
    """Proposals (video, t_start, t_end, score[, label]) as ActivityNet results JSON, atomically."""
    results: dict[str, list] = {}
    for row in proposals.itertuples():
        item = {"segment": [float(row.t_start), float(row.t_end)], "score": float(row.score)}
        if hasattr(row, "label"):
            item["label"] = row.label
        results.setdefault(row.video, []).append(item)
    with atomic_path(path) as partial:
        partial.write_text(json.dumps({"version": "dfer", "results": results}))


def _json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(path, f"cannot read as JSON ({error})") from None


def _excel(path: Path, **options) -> list[pd.DataFrame]:
    if not path.is_file():
        raise DatasetError(path, "spreadsheet not found")
    try:
        sheets = pd.read_excel(path, sheet_name=None, **options)
    except Exception as error:  # openpyxl raises many types for a damaged workbook
        raise DatasetError(path, f"cannot read as an Excel workbook ({error})") from None
    return list(sheets.values())


def _mapping(sheet: pd.DataFrame) -> dict[str, str]:
    """A two-column sheet as {first column: second column} (strings; header-like rows are kept
    harmlessly as one more entry)."""
    sheet = sheet.dropna(how="all")
    if sheet.shape[1] < 2:
        return {}
    return {str(a).strip(): str(b).strip() for a, b in zip(sheet.iloc[:, 0], sheet.iloc[:, 1])}
