"""``dfer predict --model CHECKPOINT``: a trained dfer video model over sliding windows.

Each face track is cut into windows of the model's input length (the number of frames its config's
sampler gives: 8 or 16 for the baselines, 7 × 5 for CEFLNet), overlapping by half. Each window's
aligned face crops (as ``dfer preprocess`` makes them, at the config's size; the scene frames too
for two-stream models) go through the config's sampler and test transform, then the model. Every
frame gets the mean probabilities of the windows that cover it, so segments come out exactly as for
the default model; the windows themselves (with CEFLNet's located clip) are kept in
``PredictionResult.windows``. Only the last window's frames are held per track.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from dfer import labels
from dfer.data.sampling import make_sampler
from dfer.data.transforms import clip_transform
from dfer.engine import checkpoint
from dfer.engine.config import RunConfig, build
from dfer.errors import DatasetError
from dfer.faces.align import align_face
from dfer.faces.track import FaceTracker
from dfer.io.video import iter_frames, probe, read_ahead
from dfer.models.zoo import build_model
from dfer.predict.pipeline import PredictionResult, PredictOptions, _Thumbnails, frame_table
from dfer.predict.segments import segments

WINDOW_COLUMNS = ["track", "start_frame", "end_frame", "start", "end", *labels.EXPRESSIONS, "label",
                  "confidence", "located_start_frame", "located_end_frame"]


class VideoModel:
    """A trained dfer checkpoint ready to classify windows of face crops."""

    def __init__(self, path: Path, device: str = "cpu"):
        payload = checkpoint.load(path)
        if "config" not in payload or "model_name" not in payload:
            raise DatasetError(path, "not a dfer training checkpoint (no config/model_name); train one with `dfer train`")
        self.config: RunConfig = build(RunConfig, payload["config"], "")
        self.name = f"{self.config.model.name} ({Path(path).name})"
        self.model = build_model(self.config.model.name, num_classes=labels.NUM_CLASSES, **self.config.model.options)
        checkpoint.load_model_weights(self.model, payload, path, self.config.model.name, labels.NUM_CLASSES)
        self.device = torch.device(device)
        self.model.to(self.device).eval()
        data = self.config.data
        self.sampler = make_sampler(data.sampler.name, **data.sampler.options)
        # window length: CEFLNet's clip timeline (105 frames), else the frames the model takes (8, 16, …)
        self.length = (int(data.sampler.options.get("total", 105)) if data.sampler.name == "ceflnet"
                       else np.ravel(self.sampler(10_000, "test")).size)
        self.size = int(data.size[0])
        self.transform = clip_transform(train=False, size=tuple(data.size))
        self.scene_size = tuple(data.scene_size) if data.scene else None
        self.scene_transform = clip_transform(train=False, size=self.scene_size) if data.scene else None

    def window_input(self, faces: list[np.ndarray], scenes: list[np.ndarray] | None):
        """Model inputs for one window of uint8 face crops (and scene frames)."""
        chosen = np.ravel(self.sampler(len(faces), "test"))

        def clip(images, transform):  # uint8 (T, H, W, C) → transform on (T, C, H, W) → (C, T, H, W)
            frames = torch.from_numpy(np.stack([images[i] for i in chosen])).permute(0, 3, 1, 2)
            return transform(frames).permute(1, 0, 2, 3)

        scene = clip(scenes, self.scene_transform) if self.scene_transform is not None else None
        return clip(faces, self.transform), scene, chosen

    @torch.inference_mode()
    def __call__(self, video: torch.Tensor, scene: torch.Tensor | None) -> dict:
        outputs = self.model(video[None].to(self.device), None if scene is None else scene[None].to(self.device))
        result = {"probabilities": outputs["logits"].float().softmax(dim=1)[0].cpu().numpy()}
        if "located_clip" in outputs:
            result["located_clip"] = int(outputs["located_clip"][0])
        return result


def predict_with_checkpoint(video, path: Path, options: PredictOptions = PredictOptions(),
                            on_frame=None) -> PredictionResult:
    """:func:`dfer.predict.predict` for a trained video model (see the module docstring)."""
    started = time.perf_counter()
    model = VideoModel(path)
    info = probe(video)
    tracker = FaceTracker.shared(options.tracker)
    thumbnails = _Thumbnails(options.thumbnails, options.thumbnail_size, info.duration)
    length, stride = model.length, max(model.length // 2, 1)
    buffers: dict[int, deque] = {}
    since_window: dict[int, int] = {}
    rows, windows = [], []
    sums: dict[tuple[int, int], np.ndarray] = {}

    def classify(track: int) -> None:
        items = list(buffers[track])
        faces = [item[2] for item in items]
        scenes = [item[3] for item in items] if model.scene_size else None
        video_input, scene_input, chosen = model.window_input(faces, scenes)
        output = model(video_input, scene_input)
        probabilities = output["probabilities"]
        for frame, _, _, _ in items:
            sums[(track, frame)] = sums.get((track, frame), 0) + np.append(probabilities, 1.0)
        window = {"track": track, "start_frame": items[0][0], "end_frame": items[-1][0],
                  "start": items[0][1], "end": items[-1][1],
                  **dict(zip(labels.EXPRESSIONS, probabilities.astype(float))),
                  "label": labels.EXPRESSIONS[int(probabilities.argmax())], "confidence": float(probabilities.max()),
                  "located_start_frame": None, "located_end_frame": None}
        if "located_clip" in output:  # CEFLNet: the sub-video it found most emotional
            per_clip = len(chosen) // int(model.config.model.options.get("clips", 7))
            picked = chosen[output["located_clip"] * per_clip:(output["located_clip"] + 1) * per_clip]
            located = [items[i][0] for i in picked]
            window["located_start_frame"], window["located_end_frame"] = min(located), max(located)
        windows.append(window)
        since_window[track] = 0

    for frame, faces in tracker.track(read_ahead(iter_frames(video, info))):
        scene = (cv2.resize(frame.image, model.scene_size[::-1], interpolation=cv2.INTER_AREA)
                 if model.scene_size else None)
        for face in faces:
            buffer = buffers.setdefault(face.track, deque(maxlen=length))
            if buffer and frame.index - buffer[-1][0] > options.tracker.max_gap + 1:
                if since_window.get(face.track, 0) > 0:
                    classify(face.track)  # frames before the gap not yet in a window
                buffer.clear()  # the face was away: windows do not bridge the gap
            buffer.append((frame.index, frame.time, align_face(frame.image, face.landmarks, model.size), scene))
            since_window[face.track] = since_window.get(face.track, length) + 1
            left, top, right, bottom = face.box
            rows.append({"video": str(video), "frame": frame.index, "time": frame.time, "track": face.track,
                         "left": left, "top": top, "right": right, "bottom": bottom})
            thumbnails.offer(face.track, frame.time, frame.image, face.box)
            if len(buffer) == length and since_window[face.track] >= stride:
                classify(face.track)
        if on_frame is not None:
            on_frame(frame.index + 1, info.frames)
    for track, buffer in buffers.items():  # the tail of each track: one last (possibly short) window
        if buffer and since_window.get(track, 0) > 0 and len(buffer) >= min(length, 2):
            classify(track)
    covered = [row for row in rows if (row["track"], row["frame"]) in sums]
    probabilities = np.array([sums[(r["track"], r["frame"])][:-1] / sums[(r["track"], r["frame"])][-1]
                              for r in covered]).reshape(-1, labels.NUM_CLASSES)
    frames = frame_table(covered, probabilities)
    fps = info.fps or 25.0
    return PredictionResult(str(video), info, model.name, frames, segments(frames, fps, options.segments),
                            thumbnails.by_track, windows=pd.DataFrame(windows, columns=WINDOW_COLUMNS),
                            seconds=time.perf_counter() - started, options=options)
