"""``dfer build candidates``: raw videos → candidate clips for annotation, every decision kept.

The four stages of FERV39k Fig. 3(b) (pure functions in :mod:`dfer.curation.candidates`) over a
manifest of raw videos (``path``, ``scene``, optional ``keywords`` and ``source``):

1. scene balance by total duration (videos are probed, unreadable ones are recorded and skipped);
2. the kept videos go through ``dfer preprocess`` (face tracks, identities, shot cuts, aligned face
   crops and scene frames) and are cut into random clips;
3. the named rules on each clip's rows of the per-frame table, then the oversample and per-video caps;
4. every surviving clip is scored by a FER model — the default model on the clip's frames as
   ``dfer predict`` sees them, or a dfer checkpoint on the clip's aligned crops — and the expression
   balance keeps ``keep × target`` clips. (The paper's detector, a ResNet-50 trained on RAF-DB, is
   not public; its virtual-face, caption and picture-in-picture rules are not automated, see
   :mod:`dfer.curation.candidates`.)

Everything goes into one output folder::

    build.json            the options (a re-run with other options is refused)
    videos.csv            stage 1 per video: scene, duration, kept, reason
    preprocess/           the dfer preprocess output of the kept videos (frames layout)
    scores/<video>.parquet  stage 4 probabilities per clip (cached: a re-run does not re-score)
    clips.csv             every clip: frames, seconds, rule figures, probabilities, stage, reason, kept
    candidates.csv        the final clips (clip_id, path, faces, scenes, scene, …): the input of
                          ``dfer annotate plan``
    candidates/videos/<clip>.mp4, candidates/faces/<clip>/0001.jpg, candidates/scenes/<clip>/0001.jpg
                          (from the first face and scene size of the preprocess options: 224², 336×504)
    report.html, report/*.png, summary.json

A clip is finished when its video file exists (written last, atomically), so a killed run resumes:
``dfer preprocess`` skips finished videos, cached scores are reused and finished clips are kept.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from dfer import labels
from dfer.curation.candidates import (CandidateOptions, balance_expressions, balance_scenes, cap_candidates, check_clip,
                                   random_cuts)
from dfer.curation.scoring import person_rows, score_clips
from dfer.data.manifest import load_manifest_table
from dfer.engine.config import build, read_tree
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import link_or_copy, write_json, write_table
from dfer.io.video import VideoError, iter_frames, probe, read_ahead, write_video
from dfer.preprocess import options_from, preprocess
from dfer.preprocess.table import LANDMARK_COLUMNS
from dfer.preprocess.video import TABLES

CLIP_COLUMNS = ["clip_id", "video", "scene", "source", "keywords", "start_frame", "end_frame", "start", "end",
                "frames", "rule", "person", "face_share", "median_face_size", "tracks", "max_identity_distance",
                "max_faces", *labels.EXPRESSIONS, "scored_frames", "predicted", "confidence", "stage", "reason",
                "kept"]
CANDIDATE_COLUMNS = ["clip_id", "path", "faces", "scenes", "scene", "video", "source", "keywords", "start", "end",
                     "frames", "predicted", "confidence"]


@dataclass(frozen=True)
class BuildOptions:
    """Everything that decides a build's outputs (``build.json``; a YAML ``--config`` holds these keys)."""

    candidates: CandidateOptions = CandidateOptions()
    target_distribution: dict | None = None  # expression → share of the final clips; None: uniform
    model: str = "default"  # "default", the default model's weights (.hdf5) or a dfer checkpoint
    preprocess: dict = field(default_factory=dict)  # overrides of the dfer preprocess options


def load_options(config: str | Path | None = None, model: str | None = None, **candidates) -> BuildOptions:
    """The options of a YAML ``config`` (the keys of :class:`BuildOptions`; none: the defaults), with
    ``model`` and :class:`CandidateOptions` fields (``target=…``) overridden where not None."""
    options = build(BuildOptions, read_tree(config), "")
    chosen = {name: value for name, value in candidates.items() if value is not None}
    return replace(options, candidates=replace(options.candidates, **chosen), **({"model": model} if model else {}))


@dataclass(frozen=True)
class BuildSummary:
    """Counts per stage and where the outputs are."""

    out: str
    videos: int
    readable: int
    balanced: int
    preprocessed: int
    clips: int
    passed_rules: int
    after_cap: int
    scored: int
    final: int
    seconds: float
    readable_seconds: float = 0.0
    balanced_seconds: float = 0.0

    def __str__(self) -> str:
        text = (f"{self.videos} videos ({self.readable} readable, {self.balanced} kept by scene balance, "
                f"{self.preprocessed} preprocessed) → {self.clips} clips cut → {self.passed_rules} pass the rules "
                f"→ {self.after_cap} after the caps → {self.final} candidates in {self.seconds:.0f} s → {self.out}")
        if self.balanced_seconds < 0.5 * self.readable_seconds:
            text += (f"\n  note: scene balance kept {self.balanced_seconds:.0f} of {self.readable_seconds:.0f} s of video "
                     "(every scene is cut to the smallest scene's total); --scene-seconds keeps more")
        if self.final == 0:
            text += "\n  note: no candidates; report.html and clips.csv say which stage removed what"
        return text


def read_raw_manifest(path: str | Path) -> pd.DataFrame:
    """The raw-video manifest: ``video`` (a unique key), ``path`` (absolute), ``scene``, ``keywords``,
    ``source``. Errors name the row."""
    path = Path(path)
    table = load_manifest_table(path)
    missing = [c for c in ("path", "scene") if c not in table.columns]
    if missing:
        raise DatasetError(path, f"missing column(s) {missing}; expected path, scene and optional keywords, source",
                           row=1)
    rows, seen = [], {}
    for number, row in enumerate(table.to_dict("records"), start=2):
        text, scene = str(row["path"]).strip(), str(row["scene"]).strip()
        if not text:
            raise DatasetError(path, "empty path", row=number)
        if not scene:
            raise DatasetError(path, "empty scene (stage 1 balances raw material per scene)", row=number)
        video = Path(text) if Path(text).is_absolute() else path.parent / text
        key = str(row.get("video", "")).strip() or video.stem
        if key in seen:
            raise DatasetError(path, f"video key {key!r} also used in row {seen[key]}; give a unique 'video' column",
                               row=number)
        seen[key] = number
        rows.append({"video": key, "path": str(video), "scene": scene,
                     "keywords": str(row.get("keywords", "")).strip(), "source": str(row.get("source", "")).strip()})
    if not rows:
        raise DatasetError(path, "the manifest lists no videos")
    return pd.DataFrame(rows)


class FrameTables:
    """The per-frame tables of the preprocessed videos, read on demand (the columns the stages use),
    so a large build never holds them all in memory."""

    COLUMNS = ["frame", "time", "track", "faces", "cut", "left", "top", "right", "bottom", "face_size", "success",
               "identity_distance", *LANDMARK_COLUMNS]  # the landmarks give stage 4 the head's roll

    def __init__(self, folder: Path, videos):
        self.folder = folder
        self.videos = [v for v in videos if (folder / f"{v}.parquet").is_file()]

    def __len__(self) -> int:
        return len(self.videos)

    def get(self, video: str):
        return self[video] if video in self.videos else None

    def __getitem__(self, video: str) -> pd.DataFrame:
        return pd.read_parquet(self.folder / f"{video}.parquet", columns=self.COLUMNS)


def stage_one(videos: pd.DataFrame, options: CandidateOptions) -> pd.DataFrame:
    """Probe every video (duration, fps, frames) and balance the readable ones per scene."""
    facts = []
    for path in videos.path:
        try:
            info = probe(path)
            duration = info.duration or (info.frames / info.fps if info.fps else 0.0)
            facts.append({"duration": duration, "fps": info.fps, "width": info.width, "height": info.height,
                          "reason": "" if duration > 0 else "unreadable: no duration"})
        except VideoError as error:
            facts.append({"duration": 0.0, "fps": 0.0, "width": 0, "height": 0, "reason": f"unreadable: {error.reason}"})
    table = pd.concat([videos.reset_index(drop=True), pd.DataFrame(facts)], axis=1)
    readable = table[table.reason == ""]
    balanced = balance_scenes(readable, options.scene_seconds, options.seed) if len(readable) else readable
    table["kept"] = False
    table.loc[balanced.index, ["kept", "reason"]] = balanced[["kept", "reason"]].to_numpy()
    table["kept"] = table.kept.astype(bool)
    return table


def stage_three(videos: pd.DataFrame, tables: FrameTables, options: CandidateOptions) -> pd.DataFrame:
    """Cut each preprocessed video into random clips (seeded per video, so one video's cuts do not
    depend on the others) and apply the rules, then the caps."""
    rows = []
    for video in videos.itertuples():
        table = tables.get(video.video)
        if table is None:
            continue
        fps = video.fps or 25.0
        rng = np.random.default_rng([options.seed, zlib.crc32(video.video.encode())])
        times = table.drop_duplicates("frame").set_index("frame").time
        frames = table.frame.to_numpy()
        for start, end in random_cuts(int(table.frame.max()) + 1, fps, rng, options.min_seconds, options.max_seconds,
                                      options.cut_distribution):
            reason, figures = check_clip(table[(frames >= start) & (frames <= end)], options)
            rows.append({"clip_id": f"{video.video}_{start:06d}", "video": video.video, "scene": video.scene,
                         "source": video.source, "keywords": video.keywords, "start_frame": start, "end_frame": end,
                         "start": float(times.get(start, start / fps)), "end": float(times.get(end, end / fps)),
                         "rule": reason, **figures})
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS[:CLIP_COLUMNS.index("max_faces") + 1])
    return cap_candidates(clips.assign(reason=clips.rule), options).astype({"kept": bool})


def crop_folders(preprocessed: Path, options) -> tuple[Path, Path | None]:
    """The ``dfer preprocess`` folders (frames layout) of the main face size and scene size (None
    when no scene frames are written): what candidates are made of and checkpoints score."""
    faces = preprocessed / f"faces_{options.face_sizes[0]}"
    if not options.scene_sizes:
        return faces, None
    height, width = options.scene_sizes[0]
    return faces, preprocessed / f"scenes_{height}x{width}"


def place_clip(out: Path, folders: tuple[Path, Path | None], table: pd.DataFrame, clip) -> list[Path]:
    """Link (or copy) the clip's face crops and scene frames into ``candidates/faces|scenes/<clip>/``,
    numbered 0001, … over the frames where its person was found; staged, then moved into place."""
    rows = person_rows(table, clip)
    faces, scenes = folders
    sources = [("faces", faces / clip.video / f"track_{clip.person}")]
    if scenes is not None:
        sources.append(("scenes", scenes / clip.video))
    targets = []
    for kind, source in sources:
        staging = out / "candidates" / ".staging" / kind / clip.clip_id
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for number, frame in enumerate(rows.frame, start=1):
            _link(source / f"{frame:06d}.jpg", staging / f"{number:04d}.jpg")
        target = out / "candidates" / kind / clip.clip_id
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)
        targets.append(target)
    return targets


def _link(source: Path, target: Path) -> None:
    if not source.is_file():
        raise DatasetError(source, "missing frame in the preprocess output (was it changed or partly deleted?)")
    link_or_copy(source, target)


def cut_videos(path: str, fps: float, clips: pd.DataFrame, folder: Path) -> None:
    """Write each clip's frames of the raw video as ``folder/<clip>.mp4`` in one decoding pass
    (clips sorted and disjoint, as the cuts are)."""
    frames = read_ahead(iter_frames(path))

    def between(start: int, end: int):
        for frame in frames:
            if frame.index >= start:
                yield frame.image
            if frame.index >= end:
                return

    for clip in clips.sort_values("start_frame").itertuples():
        write_video(folder / f"{clip.clip_id}.mp4", between(clip.start_frame, clip.end_frame), fps or 25.0)


def _check_options(out: Path, options: BuildOptions) -> None:
    record, current = out / "build.json", json.loads(json.dumps(asdict(options), default=str))
    if record.is_file():
        previous = json.loads(record.read_text())
        different = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        if different:
            raise InputError(f"{out} was built with other options ({', '.join(different)} differ); "
                             "use a new --out folder, or the same options to resume")
    else:
        write_json(record, current)


def build_candidates(manifest: str | Path, out: str | Path, options: BuildOptions = BuildOptions(), workers: int = 1,
                     progress: bool = True) -> BuildSummary:
    """Run the four stages on the videos of ``manifest`` into ``out`` (see the module docstring)."""
    started = time.perf_counter()
    out = Path(out)
    candidate = options.candidates
    videos = read_raw_manifest(manifest)
    if options.target_distribution:
        unknown = sorted(set(options.target_distribution) - set(labels.EXPRESSIONS))
        if unknown:
            raise InputError(f"target_distribution: unknown expression(s) {unknown}; expected {labels.EXPRESSIONS}")
    out.mkdir(parents=True, exist_ok=True)
    _check_options(out, options)

    videos = stage_one(videos, candidate)
    kept = videos[videos.kept]
    preprocessed = out / "preprocess"
    preprocess_options = options_from("frames", **options.preprocess)
    folders = crop_folders(preprocessed, preprocess_options)
    if len(kept):
        listing = out / "stage1_videos.csv"
        write_table(listing, kept.rename(columns={"video": "clip_id"})[["clip_id", "path", "scene"]])
        preprocess([listing], preprocessed, preprocess_options, workers=workers, progress=progress)
    failures = (pd.read_csv(preprocessed / "failures.csv", dtype=str).fillna("")
                if (preprocessed / "failures.csv").is_file() else pd.DataFrame(columns=["key", "reason"]))
    for failure in failures.itertuples():
        videos.loc[videos.video == failure.key, ["kept", "reason"]] = [False, f"preprocess failed: {failure.reason}"]
    tables = FrameTables(preprocessed / TABLES, videos[videos.kept].video)
    write_table(out / "videos.csv", videos)

    clips = stage_three(videos[videos.kept], tables, candidate)
    clips["stage"] = np.where(clips.rule != "", "cut", np.where(clips.kept, "cap", "rules"))
    survivors = clips[clips.kept]
    scores = score_clips(out, videos, tables, survivors, options.model, folders, progress)
    clips = clips.merge(scores, on="clip_id", how="left").astype({"scored_frames": "Int64"})
    scored = clips.clip_id.isin(scores.clip_id[scores.scored_frames > 0])
    clips.loc[clips.kept & ~scored, "reason"] = "no face to score"
    balanced = balance_expressions(clips[clips.kept & scored].reset_index(drop=True), options.target_distribution,
                                   candidate).set_index("clip_id")
    clips["predicted"], clips["confidence"] = clips.clip_id.map(balanced.predicted), clips.clip_id.map(balanced.confidence)
    stage_four_reason = clips.clip_id.map(balanced.reason)
    clips.loc[stage_four_reason.notna(), "reason"] = stage_four_reason.dropna()
    clips.loc[stage_four_reason.notna(), "stage"] = np.where(stage_four_reason.dropna() == "", "final", "scored")
    clips["kept"] = clips.reason.fillna("") == ""
    clips = clips.reindex(columns=CLIP_COLUMNS)

    final = clips[clips.kept]
    _materialise(out, videos, tables, final, folders, progress)
    write_table(out / "clips.csv", clips)
    root = out / "candidates"
    candidates = final.assign(path=[str(root / "videos" / f"{c}.mp4") for c in final.clip_id],
                              faces=[str(root / "faces" / c) for c in final.clip_id],
                              scenes=[str(root / "scenes" / c) if folders[1] else "" for c in final.clip_id])
    write_table(out / "candidates.csv", candidates[CANDIDATE_COLUMNS])
    summary = BuildSummary(str(out), len(videos), int((~videos.reason.str.startswith("unreadable")).sum()),
                           int(len(kept)), len(tables), len(clips), int((clips.rule == "").sum()),
                           int(clips.stage.isin(["cap", "scored", "final"]).sum()),
                           int(clips.stage.isin(["scored", "final"]).sum()), len(final),
                           round(time.perf_counter() - started, 2),
                           round(float(videos.duration[~videos.reason.str.startswith("unreadable")].sum()), 2),
                           round(float(videos.duration[videos.kept].sum()), 2))
    write_json(out / "summary.json", asdict(summary))
    from dfer.curation.report import build_report

    build_report(out, videos, clips, options.target_distribution)
    return summary


def _materialise(out: Path, videos: pd.DataFrame, tables: FrameTables, final: pd.DataFrame,
                 folders: tuple[Path, Path | None], progress: bool) -> None:
    """Crops, scene frames and cut videos of the final clips; a clip whose video exists is finished."""
    facts = videos.set_index("video")
    folder = out / "candidates" / "videos"
    todo = final[np.array([not (folder / f"{c}.mp4").is_file() for c in final.clip_id], bool)]
    for video, clips in tqdm(list(todo.groupby("video")), desc="write candidates", unit="video", disable=None if progress else True):
        table = tables[video]
        for clip in clips.itertuples():
            place_clip(out, folders, table, clip)
        cut_videos(facts.path[video], float(facts.fps[video]), clips, folder)
    shutil.rmtree(out / "candidates" / ".staging", ignore_errors=True)
