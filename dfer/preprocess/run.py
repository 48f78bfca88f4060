"""``dfer preprocess``: many videos through :func:`process_video`, in a process pool or on Ray.

Inputs are video files, folders (searched recursively for video files) or manifests (CSV/Parquet
with a ``path`` column and optional ``clip_id``, ``scene`` and ``label``). Finished videos are
skipped, so a re-run after a kill completes the set. A video that fails goes to ``failures.csv``
with the reason, and the run goes on. At the end the output folder holds:

* ``tables/<video>.parquet`` — the per-frame face tables (``pandas.read_parquet(OUT / "tables")``
  reads them all as one);
* ``videos.csv`` — one row per finished video (frames, faces, tracks, rule decisions, speed);
* ``failures.csv`` — one row per failed video (path, error type, reason);
* ``summary.json`` and ``preprocess.json`` (the options the outputs were made with);
* the face crops and scene frames in the chosen layout (:mod:`dfer.preprocess.layouts`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from dfer import labels
from dfer.data.records import VIDEO_SUFFIXES, natural_key
from dfer.errors import DatasetError, InputError
from dfer.faces.track import TrackerOptions
from dfer.io.atomic import write_json, write_table
from dfer.io.parallel import BACKENDS, WorkerDied, run_jobs
from dfer.io.progress import frame_progress
from dfer.preprocess.video import DONE, PreprocessOptions, VideoJob, is_done, process_video

MANIFEST_SUFFIXES = (".csv", ".tsv", ".parquet")
FAILURE_COLUMNS = ["key", "path", "error", "reason"]


@dataclass(frozen=True)
class PreprocessSummary:
    """What a run did and where its outputs are."""

    out: str
    videos: int
    done: int
    skipped: int
    failed: int
    frames: int
    face_frames: int
    seconds: float
    frames_per_second: float

    def __str__(self) -> str:
        return (f"{self.videos} videos: {self.done} done, {self.skipped} already done (skipped), "
                f"{self.failed} failed; {self.frames} frames ({self.face_frames} with a face) in "
                f"{self.seconds:.1f} s = {self.frames_per_second:.1f} frames/s → {self.out}"
                + (f" (failures: {Path(self.out) / 'failures.csv'})" if self.failed else ""))


def _manifest_jobs(path: Path) -> list[tuple[str | None, Path, str, str]]:
    from dfer.data.manifest import load_manifest_table

    table = load_manifest_table(path)
    if "path" not in table.columns:
        raise DatasetError(path, "a preprocess manifest needs a 'path' column (optional: clip_id, scene, label)", row=1)
    found = []
    for row_number, row in enumerate(table.to_dict("records"), start=2):
        source = Path(str(row["path"]).strip())
        if not str(row["path"]).strip():
            raise DatasetError(path, "empty path", row=row_number)
        source = source if source.is_absolute() else path.parent / source
        found.append((str(row.get("clip_id", "")).strip() or None, source,
                      str(row.get("scene", "")).strip(), str(row.get("label", "")).strip()))
    return found


def find_jobs(inputs, layout: str = "frames") -> list[VideoJob]:
    """The videos named by ``inputs`` (files, folders, manifests), each with a unique key.

    Keys are file stems, made unique with parent folder names where stems collide. The FERV39k
    layout needs each video's scene and expression (manifest columns ``scene`` and ``label``).
    """
    found: list[tuple[str | None, Path, str, str]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            videos = sorted((p for p in item.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()),
                            key=lambda p: natural_key(str(p)))
            found.extend((None, video, "", "") for video in videos)
        elif item.suffix.lower() in MANIFEST_SUFFIXES:
            found.extend(_manifest_jobs(item))
        elif item.exists():
            found.append((None, item, "", ""))
        else:
            raise DatasetError(item, "no such file or folder")
    stems: dict[str, int] = {}
    for key, path, _, _ in found:
        stems[key or path.stem] = stems.get(key or path.stem, 0) + 1
    jobs, seen = [], set()
    for key, path, scene, label in found:
        if key is None:
            key = path.stem if stems[path.stem] == 1 else "__".join(path.with_suffix("").parts[-2:])
        if key in seen:
            raise DatasetError(path, f"two inputs share the key {key!r}; give them distinct names or clip_ids")
        seen.add(key)
        expression = ""
        if layout == "ferv39k":
            if not scene or not label:
                raise DatasetError(path, "the ferv39k layout needs the video's scene and expression: give a manifest "
                                         "with 'scene' and 'label' columns")
            if scene not in labels.SCENES:
                raise DatasetError(path, f"scene {scene!r} is not one of FERV39k's 22 scenes ({', '.join(labels.SCENES)}); "
                                         "the reader would refuse the layout")
            expression = labels.to_ferv39k(labels.canonical(label))
        jobs.append(VideoJob(key, str(path), scene, expression))
    if not jobs:
        raise DatasetError(", ".join(map(str, inputs)), f"no videos found (looked for {', '.join(VIDEO_SUFFIXES)})")
    return jobs


def _attempt(job: VideoJob, out: str, options: PreprocessOptions, on_frame=None) -> dict:
    """Run one video; a failure becomes a record instead of ending the run."""
    try:
        return process_video(job, out, options, on_frame)
    except Exception as error:  # noqa: BLE001 - any one video's failure must not stop the others
        reason = getattr(error, "reason", None) or str(error)
        return {"status": "failed", "key": job.key, "path": job.path, "error": type(error).__name__,
                "reason": reason}


def _run(jobs, out, options, workers, backend, progress=False):
    """Each job's record: in this process with a frame progress bar per video (one local worker),
    else in worker processes or on Ray (:func:`dfer.io.parallel.run_jobs`)."""
    if backend == "local" and workers <= 1:
        for job in jobs:
            with frame_progress(Path(job.path).name, enabled=progress) as on_frame:
                yield _attempt(job, out, options, on_frame)
        return
    for job, record in run_jobs(_attempt, jobs, (out, options), workers, backend):
        if isinstance(record, WorkerDied):
            record = {"status": "failed", "key": job.key, "path": job.path, "error": "WorkerDied",
                      "reason": str(record)}
        yield record


def _check_options(out: Path, options: PreprocessOptions) -> None:
    """Refuse to add to an output folder made with other options (outputs would not match)."""
    record = out / "preprocess.json"
    current = json.loads(json.dumps(asdict(options), default=str))
    if record.is_file():
        previous = json.loads(record.read_text())
        different = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        if different:
            raise InputError(f"{out} was made with other options ({', '.join(different)} differ); "
                             "use a new --out folder, or the same options to resume")
    else:
        write_json(record, current)


def preprocess(inputs, out, options: PreprocessOptions = PreprocessOptions(), workers: int = 1,
               backend: str = "local", progress: bool = True) -> PreprocessSummary:
    """Preprocess every input video into ``out`` (see the module docstring); resumable."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DatasetError(out, "exists and is not a folder; give a folder for the outputs")
    jobs = find_jobs(inputs, options.layout)
    out.mkdir(parents=True, exist_ok=True)
    _check_options(out, options)
    todo = [job for job in jobs if not is_done(out, job.key)]
    started = time.perf_counter()
    results = _run(todo, str(out), options, workers, backend, progress)
    failures, frames = [], 0
    with tqdm(total=len(todo), desc="preprocess", unit="video", disable=None if progress else True) as bar:
        for result in results:
            if result["status"] == "failed":
                failures.append({k: result[k] for k in FAILURE_COLUMNS})
                bar.write(f"failed: {result['path']}: {result['reason']}")
            else:
                frames += result["frames"]
            bar.update()
            bar.set_postfix(failed=len(failures), fps=f"{frames / max(time.perf_counter() - started, 1e-9):.1f}")
    seconds = time.perf_counter() - started
    write_table(out / "failures.csv", pd.DataFrame(failures, columns=FAILURE_COLUMNS))
    done = [json.loads((out / DONE / f"{job.key}.json").read_text()) for job in jobs if is_done(out, job.key)]
    videos = pd.DataFrame(done).drop(columns=["status"], errors="ignore")
    write_table(out / "videos.csv", videos)
    summary = PreprocessSummary(str(out), len(jobs), len(todo) - len(failures), len(jobs) - len(todo),
                                len(failures), int(videos.frames.sum()) if len(videos) else 0,
                                int(videos.face_frames.sum()) if len(videos) else 0, round(seconds, 2),
                                round(frames / seconds, 2) if seconds > 0 else 0.0)
    write_json(out / "summary.json", asdict(summary))
    return summary


def options_from(layout: str = "frames", rules: str = "none", tracker: dict | None = None, **overrides) -> PreprocessOptions:
    """Options from a layout, a rule preset (:data:`dfer.preprocess.video.RULES`) and overrides."""
    from dfer.preprocess.video import RULES

    if rules not in RULES:
        raise InputError(f"unknown rules {rules!r}; expected one of {sorted(RULES)}")
    known = {f.name for f in fields(PreprocessOptions)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(f"unknown preprocess option(s) {unknown}; expected some of {sorted(known)}")
    return PreprocessOptions(layout=layout, tracker=TrackerOptions(**(tracker or {})), **{**RULES[rules], **overrides})
