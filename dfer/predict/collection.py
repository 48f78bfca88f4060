"""Many videos at once: which are finished, and the collection's ``index.html`` and ``segments.csv``.

A video's folder is finished when its ``summary.json`` is there (the outputs are staged and
swapped in whole, so it is never there for half a run) and was made with the same model: a
re-run skips it. The index links every video's report and lists the failures.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from dfer.io.atomic import atomic_path, write_table


def finished(folder: Path, model_name: str) -> dict | None:
    """The summary of a finished run of ``model_name`` in ``folder``, or None."""
    path = Path(folder) / "summary.json"
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text())
    except ValueError:
        return None
    return summary if summary.get("model") == model_name else None


def write_collection(out: Path, done: dict[str, tuple[Path, dict]], failures: list[dict]) -> None:
    """``out/segments.csv`` (every video's segments, with its key) and ``out/index.html`` (a row per
    video: tracks, segments, main expression, a link to its report; then the failures)."""
    out = Path(out)
    rows, table = [], []
    for key, (folder, summary) in sorted(done.items()):
        segments = pd.read_csv(folder / "segments.csv") if (folder / "segments.csv").is_file() else pd.DataFrame()
        if len(segments):
            rows.append(segments.assign(key=key, video=summary["video"]))
        totals = {}
        for facts in summary["tracks"].values():
            for name, value in facts["mean_probabilities"].items():
                totals[name] = totals.get(name, 0.0) + value * facts["frames"]
        main = max(totals, key=totals.get) if totals else "no face"
        link = Path(folder).resolve().relative_to(out.resolve()).as_posix() + "/report.html"
        table.append(f"<tr><td><a href='{html.escape(link)}'>{html.escape(key)}</a></td>"
                     f"<td>{summary['duration']:.1f}</td><td>{len(summary['tracks'])}</td><td>{len(segments)}</td>"
                     f"<td>{html.escape(main)}</td></tr>")
    columns = ["key", "video", "track", "label", "onset_frame", "offset_frame", "onset", "offset"]
    combined = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    write_table(out / "segments.csv", combined[[c for c in columns if c in combined] +
                                              [c for c in combined if c not in columns]])
    failed = "".join(f"<tr><td>{html.escape(f['key'])}</td><td>{html.escape(str(f['path']))}</td>"
                     f"<td>{html.escape(f['reason'])}</td></tr>" for f in failures)
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>dfer · videos</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px "
            "solid #ccc;padding:3px 8px}</style></head><body>"
            f"<h1>{len(done)} videos</h1><table><tr><th>video</th><th>seconds</th><th>tracks</th><th>segments</th>"
            f"<th>main expression</th></tr>{''.join(table)}</table>"
            + (f"<h2>{len(failures)} failed</h2><table><tr><th>video</th><th>path</th><th>reason</th></tr>{failed}"
               "</table>" if failures else "")
            + "<p>All segments: <a href='segments.csv'>segments.csv</a></p></body></html>")
    with atomic_path(out / "index.html") as partial:
        partial.write_text(page)
