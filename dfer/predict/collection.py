"""Many videos at once: :func:`predict_many`, which videos are finished, and the collection's
``index.html``, ``segments.csv`` and ``failures.csv``.

Each video goes through :func:`predict_into` (predict, then save into its folder), in this process
or, with ``workers`` > 1 or the Ray backend, as the same function in worker processes or Ray tasks
(:func:`dfer.io.parallel.run_jobs`; each worker loads the model once). A video's folder is
finished when its ``summary.json`` is there (the outputs are staged and swapped in whole, so it is
never there for half a run) and was made with the same model: a re-run skips it. The index links
every video's report and lists the failures.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from dfer.errors import InputError
from dfer.io.atomic import atomic_path, write_table
from dfer.io.parallel import WorkerDied, run_jobs
from dfer.predict.pipeline import load_model, predict
from dfer.predict.result import PredictOptions

FAILURE_COLUMNS = ["key", "path", "reason"]
_LOADED: dict[str, object] = {}  # model argument → the model, loaded once per (worker) process


def predict_into(video: Path, folder: Path, model, options: PredictOptions = PredictOptions(),
                 video_out: bool = False, on_frame=None) -> dict:
    """Predict on one video and save its outputs into ``folder``; returns a record: ``status``
    (done, or incomplete with its ``reason`` when the video decoded short), ``folder``, the
    ``summary`` and the ``lines`` that describe the result. ``model``: a loaded model or a
    :func:`~dfer.predict.pipeline.load_model` argument (loaded once per process)."""
    if isinstance(model, (str, Path)):
        if str(model) not in _LOADED:
            _LOADED[str(model)] = load_model(model)
        model = _LOADED[str(model)]
    result = predict(video, model, options, on_frame)
    written = result.save(folder, annotated=video_out)
    summary = result.summary()
    lines = [f"{video}: {len(result.frames)} face-frames in {len(result.tracks)} track(s), "
             f"{len(result.segments)} segment(s), {result.seconds:.1f} s ({summary['x_real_time']}× real time)"]
    if not result.tracks:
        lines.append(f"  no face found in {video}; the report says so")
    for track in result.tracks:
        spans = result.segments[result.segments.track == track]
        lines.append(f"  track {track}: " + ", ".join(f"{s.label} {s.onset:.2f}–{s.offset:.2f} s"
                                                     for s in spans.itertuples()))
    lines.append(f"  report: {written['report']} (timeline.png, frames.parquet, segments.csv, summary.json"
                 + (", annotated.mp4)" if video_out else ")"))
    record = {"status": "done", "folder": str(folder), "summary": summary, "lines": lines}
    if result.incomplete:
        record.update(status="incomplete", reason=f"{result.incomplete}; the outputs cover the "
                      f"{result.frames_decoded} frames decoded")
    return record


def _attempt(job, out: Path | None, model, options: PredictOptions, video_out: bool, on_frame=None) -> dict:
    """:func:`predict_into` for one job of many: a bad video becomes a failed record."""
    try:
        return predict_into(Path(job.path), output_folder(job, out, several=True), model, options, video_out,
                            on_frame)
    except (InputError, OSError) as error:
        return {"status": "failed", "reason": str(error)}


def predict_many(jobs, out: Path | None, model="default", options: PredictOptions = PredictOptions(),
                 video_out: bool = False, workers: int = 1, backend: str = "local", quiet: bool = False,
                 echo=print, warn=print) -> tuple[dict[str, tuple[Path, dict]], list[dict]]:
    """Predict on several videos (jobs with a unique ``key`` and a ``path``), each into
    ``out/<key>`` (or, without ``out``, a folder beside the video), skipping finished ones; then
    write ``out/index.html``, ``out/segments.csv`` and, if any failed, ``failures.csv``. ``echo``
    gets what is found per video, ``warn`` each failure. With ``workers`` > 1 or ``backend="ray"``,
    ``model`` must be a :func:`~dfer.predict.pipeline.load_model` argument (each worker loads it).
    Returns the finished videos (key → folder, summary) and the failures (key, path, reason)."""
    from dfer.io.progress import frame_progress

    parallel = backend != "local" or workers > 1
    if parallel and not isinstance(model, (str, Path)):
        raise InputError("with several workers the model is given as 'default' or a file path (each worker loads it)")

    loaded = load_model(model)  # a bad checkpoint stops the run here, before any video
    name = loaded.name
    done, failures, todo = {}, [], []
    for job in jobs:
        folder = output_folder(job, out, several=True)
        if (summary := finished(folder, name)) is not None:
            echo(f"{job.path}: finished before ({folder}); skipped")
            done[job.key] = (folder, summary)
        else:
            todo.append(job)
    if not parallel:
        def records():
            for job in todo:
                with frame_progress(Path(job.path).name, enabled=not quiet) as on_frame:
                    yield job, _attempt(job, out, loaded, options, video_out, on_frame)
    else:
        del loaded  # each worker loads its own: models are not shared across processes

        def records():
            return run_jobs(_attempt, todo, (out, model, options, video_out), workers, backend)
    for job, record in records():
        if isinstance(record, WorkerDied):
            record = {"status": "failed", "reason": str(record)}
        if record["status"] == "failed":
            warn(f"{job.path}: failed: {record['reason']}")
            failures.append({"key": job.key, "path": job.path, "reason": record["reason"]})
            continue
        echo("\n".join(record["lines"]))
        done[job.key] = (Path(record["folder"]), record["summary"])
        if record["status"] == "incomplete":
            warn(f"{job.path}: {record['reason']}")
            failures.append({"key": job.key, "path": job.path, "reason": record["reason"]})
    where = out if out is not None else Path(".")
    if out is not None:
        write_collection(out, done, failures)
    if failures:
        write_table(where / "failures.csv", pd.DataFrame(failures, columns=FAILURE_COLUMNS))
    return done, failures


def output_folder(job, out: Path | None, several: bool) -> Path:
    """Where a video's outputs go: ``out`` itself for one video, ``out/<key>`` for several, and
    without ``out`` a folder beside the video named after it (``VIDEO_dfer``)."""
    if out is None:
        return Path(job.path).with_name(f"{Path(job.path).stem}_dfer")
    return Path(out) / job.key if several else Path(out)


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
