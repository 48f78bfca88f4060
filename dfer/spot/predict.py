"""``dfer spot predict VIDEO --model CKPT``: expression segments in a long video.

The video goes through ``dfer preprocess`` (SDFE-LV rules: lost frames filled from their
neighbours) into a work folder; the main face's crops — every frame, a frame without its own crop
taking the nearest one — give snippet features with the extractor the localizer was trained on
(recorded in its checkpoint); the localizer (BMN) proposes segments; each of the ``top`` best is
classified by a DFER model (``classifier``, default the extractor itself) on its crops. Results:
``segments.csv`` (rank, start and end in seconds and frames, proposal score, expression,
confidence, the 7 probabilities), ``proposals.json`` (every proposal, ActivityNet results),
``timeline.png`` and ``summary.json``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from dfer import labels
from dfer.data.long_video import write_proposals
from dfer.engine.inference import VideoModel
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import write_json, write_table
from dfer.io.figures import COLOURS, plt, save_png
from dfer.preprocess import options_from
from dfer.preprocess.table import NO_FACE
from dfer.preprocess.video import VideoJob, process_video
from dfer.spot.features import SnippetExtractor, frame_paths, rescale, video_features
from dfer.spot.train import VideoItem, load_localizer, propose

SEGMENT_COLUMNS = ["rank", "start", "end", "onset_frame", "offset_frame", "score", "label", "confidence",
                   *labels.EXPRESSIONS]


def spot_video(video: str | Path, model: str | Path, classifier: str | Path | None = None, top: int = 10,
               work: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(segments, all proposals, facts) of one video (see the module docstring)."""
    video = Path(video)
    localizer, config, payload = load_localizer(model)
    info = payload.get("features")
    if not info:
        raise DatasetError(model, "the checkpoint does not record its feature extractor (retrain with dfer spot train)")
    extractor = SnippetExtractor(info["checkpoint"])
    if extractor.two_stream:
        raise InputError("dfer spot predict supports face-only extractors; this localizer used a two-stream one")
    folder = Path(work or tempfile.mkdtemp(prefix="dfer-spot-"))
    try:
        options = options_from("frames", "sdfe-lv", face_sizes=(112,), scene_sizes=())
        facts = process_video(VideoJob(video.stem, str(video)), folder, options)
        frames, fps = int(facts["frames"]), float(facts["fps"] or 25.0)
        if facts["main_track"] == NO_FACE:
            empty = pd.DataFrame(columns=SEGMENT_COLUMNS)
            return empty, empty, {**_facts(video, frames, fps, facts), "note": "no face found"}
        paths = frame_paths(folder / "faces_112" / video.stem / f"track_{facts['main_track']}")
        paths += paths[-1:] * (frames - len(paths))  # frames after the face's last crop
        snippets = video_features(extractor, paths, None, int(info["snippet"]), int(info["stride"]))
        item = VideoItem(video.stem, rescale(snippets, localizer.positions).T.copy(), np.zeros((0, 2)),
                         len(snippets) * int(info["stride"]), fps)
        found = propose(localizer, [item], config.top)
        found["end_frame"] = found.end_frame.clip(upper=frames - 1)
        found["t_end"] = np.minimum(found.t_end, frames / fps)
        judge = VideoModel.from_checkpoint(classifier) if classifier else extractor.video_model
        rows = []
        for rank, proposal in enumerate(found.head(top).itertuples(), start=1):
            crops = _read(paths[proposal.start_frame:proposal.end_frame + 1])
            probabilities = judge(*judge.window_input(crops, None)[:2])["probabilities"]
            rows.append({"rank": rank, "start": proposal.t_start, "end": proposal.t_end,
                         "onset_frame": proposal.start_frame, "offset_frame": proposal.end_frame,
                         "score": proposal.score, "label": labels.EXPRESSIONS[int(probabilities.argmax())],
                         "confidence": float(probabilities.max()),
                         **dict(zip(labels.EXPRESSIONS, probabilities.astype(float)))})
        segments = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
        return segments, found, {**_facts(video, frames, fps, facts), "localizer": str(model),
                                 "extractor": info["checkpoint"], "classifier": judge.name}
    finally:
        if work is None:
            shutil.rmtree(folder, ignore_errors=True)


def save(out: str | Path, segments: pd.DataFrame, found: pd.DataFrame, facts: dict) -> None:
    """Write segments.csv, proposals.json, timeline.png and summary.json into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "segments.csv", segments)
    write_proposals(out / "proposals.json", found.assign(video=Path(facts["video"]).stem))
    timeline(segments, facts, out / "timeline.png")
    write_json(out / "summary.json", {**facts, "segments": segments.to_dict("records")})


def timeline(segments: pd.DataFrame, facts: dict, path: Path) -> None:
    """The segments over the video's time, coloured by expression, opacity by proposal score."""
    figure, axis = plt.subplots(figsize=(10, 1.2 + 0.25 * max(len(segments), 1)))
    top = max(segments.score.max(), 1e-9) if len(segments) else 1.0
    for row in segments.itertuples():
        axis.barh(row.rank, row.end - row.start, left=row.start, color=COLOURS[row.label],
                  alpha=0.35 + 0.65 * row.score / top)
        axis.text(row.end, row.rank, f" {row.label} {row.confidence:.2f}", va="center", fontsize=7)
    axis.set_xlim(0, facts["duration"] or 1)
    axis.set_ylim(len(segments) + 0.5, 0.5)
    axis.set_xlabel("time (s)")
    axis.set_ylabel("rank")
    axis.set_title(f"expression segments in {Path(facts['video']).name}", fontsize=9)
    figure.tight_layout()
    save_png(figure, path)


def _facts(video: Path, frames: int, fps: float, facts: dict) -> dict:
    return {"video": str(video), "frames": frames, "fps": fps, "duration": frames / fps if fps else 0.0,
            "main_face_fraction": facts.get("main_face_fraction")}


def _read(paths) -> list[np.ndarray]:
    import cv2

    return [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in paths]
