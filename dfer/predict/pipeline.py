"""``dfer.predict(video)``: expressions over time for every face in a video.

One sequential decoding pass (:func:`dfer.faces.track.face_stream`, shared with ``dfer
preprocess``): frames are read ahead in a thread, faces are detected every few frames (ahead, in
another thread) and followed in between. Every frame's faces go to a scorer
(:mod:`dfer.predict.scorers`): the default classifier on each face, or a trained video model over
sliding windows of each track. Only the per-frame rows and a bounded number of thumbnails per track
are kept, so memory stays flat with video length. Segments come from the probability sequences
(:mod:`dfer.predict.segments`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from dfer import labels
from dfer.faces.track import FaceTracker, face_stream
from dfer.io.video import VideoError, incomplete, probe
from dfer.predict.result import PredictionResult, PredictOptions, Thumbnails, frame_table
from dfer.predict.scorers import FrameScorer, Scorer, WindowScorer
from dfer.predict.segments import segments


def predict(video: str | Path, model="default", options: PredictOptions = PredictOptions(),
            on_frame: Callable[[int, int], None] | None = None) -> PredictionResult:
    """Expressions over time for every face in ``video``.

    ``model``: ``"default"`` (the mini-Xception FER2013 classifier, fetched on first use), a path to
    a dfer checkpoint or a loaded :class:`~dfer.engine.inference.VideoModel` (a trained video model:
    per-window predictions), or a classifier object with ``crop(grey, box, roll)`` and ``__call__(crops) →
    (N, 7)`` probabilities. ``on_frame(done, total)`` reports progress. A video without faces gives
    an empty result (no error); one that decodes to fewer frames than its container declares gives
    the result of what was decoded, with ``incomplete`` saying so.
    """
    started = time.perf_counter()
    scorer = make_scorer(model, options)
    info = probe(video)
    thumbnails = Thumbnails(options.thumbnails, options.thumbnail_size, info.duration)
    rows: list[dict] = []
    decoded, last_time = 0, 0.0
    for frame, faces in face_stream(video, FaceTracker.shared(options.tracker), info):
        decoded, last_time = frame.index + 1, frame.time
        for face in faces:
            left, top, right, bottom = face.box
            rows.append({"video": str(video), "frame": frame.index, "time": frame.time, "track": face.track,
                         "left": left, "top": top, "right": right, "bottom": bottom})
            thumbnails.offer(face.track, frame.time, frame.image, face.box)
        scorer.add(frame, faces)
        if on_frame is not None:
            on_frame(frame.index + 1, info.frames)
    scores = scorer.finish()
    scored = [row for row in rows if (row["track"], row["frame"]) in scores.probabilities]
    probabilities = np.array([scores.probabilities[(row["track"], row["frame"])] for row in scored])
    frames = frame_table(scored, probabilities.reshape(-1, labels.NUM_CLASSES))
    fps = info.fps or (1.0 / np.median(np.diff(frames.time.unique())) if frames.time.nunique() > 1 else 25.0)
    if decoded == 0:
        raise VideoError(video, "no frames could be decoded")
    return PredictionResult(str(video), info, scorer.name, frames, segments(frames, fps, options.segments),
                            thumbnails.by_track, windows=scores.windows, seconds=time.perf_counter() - started,
                            options=options, frames_decoded=decoded, incomplete=incomplete(info, decoded, last_time))


def load_model(model="default"):
    """The model as :func:`predict` takes it, loaded: ``"default"`` → the default classifier (fetched on
    first use), a ``.onnx`` file of ``dfer export`` → its :class:`~dfer.engine.onnx_model.OnnxVideoModel`
    (no torch), a checkpoint path → its :class:`~dfer.engine.inference.VideoModel`; anything else
    (an already loaded model or classifier) as it is."""
    if isinstance(model, (str, Path)) and Path(model).suffix.lower() == ".onnx":
        from dfer.engine.onnx_model import OnnxVideoModel  # onnxruntime, without torch

        return OnnxVideoModel(Path(model))
    if isinstance(model, (str, Path)) and str(model) != "default":
        from dfer.engine.inference import VideoModel  # the model zoo loads only for a checkpoint

        return VideoModel.from_checkpoint(Path(model))
    if isinstance(model, str):
        from dfer.models.default import DefaultClassifier  # onnxruntime loads when a model is needed

        return DefaultClassifier()
    return model


def make_scorer(model="default", options: PredictOptions = PredictOptions()) -> Scorer:
    """The scorer for ``model`` as :func:`predict` takes it (see :func:`load_model`)."""
    model = load_model(model)
    if hasattr(model, "window_input"):  # a trained video model
        return WindowScorer(model, options.tracker.max_gap)
    return FrameScorer(model, options.batch_size)
