"""The two ways ``dfer predict`` turns tracked faces into expression probabilities.

A scorer is fed every decoded frame with its tracked faces (:meth:`add`) and, at the end of the
video, gives the probabilities of the (track, frame) pairs it scored (:meth:`finish`):

- :class:`FrameScorer`: a per-face classifier on every face of every frame (the default
  mini-Xception, :class:`dfer.models.default.DefaultClassifier`), in batches.
- :class:`WindowScorer`: a trained dfer video model over sliding windows of each face track. A
  window spans the model's input length (the frames its config's sampler gives: 8 or 16 for the
  baselines, 7 × 5 for CEFLNet's 105-frame timeline) and windows overlap by half. Each window's
  aligned face crops (as ``dfer preprocess`` makes them, at the config's size; the scene frames too
  for two-stream models) go through the config's sampler and test transform, then the model. Every
  frame gets the mean probabilities of the windows that cover it; the windows themselves (with
  CEFLNet's located sub-clip) are kept. Only the last window's frames are held per track, and a
  window never bridges a gap longer than the tracker's ``max_gap``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, NamedTuple, Protocol

import cv2
import numpy as np
import pandas as pd

from dfer import labels
from dfer.faces.align import align_face, roll
from dfer.faces.track import Observation
from dfer.io.video import Frame
from dfer.predict.result import WINDOW_COLUMNS

if TYPE_CHECKING:
    from dfer.engine.inference import VideoModel


class Scores(NamedTuple):
    """A scorer's output: probabilities (canonical order) per ``(track, frame)``, and its windows."""

    probabilities: dict[tuple[int, int], np.ndarray]
    windows: pd.DataFrame | None = None


class Scorer(Protocol):
    name: str

    def add(self, frame: Frame, faces: list[Observation]) -> None:
        """Take the next decoded frame and the faces tracked in it."""

    def finish(self) -> Scores:
        """The probabilities of every (track, frame) scored."""


class FrameScorer:
    """A per-face classifier (``crop(grey, box, roll)`` with the head's roll in degrees,
    ``__call__(crops) → (N, 7)``) on every face, batched."""

    def __init__(self, classifier, batch_size: int = 64):
        self.classifier, self.batch_size = classifier, batch_size
        self.name = getattr(classifier, "name", type(classifier).__name__)
        self._crops: list[np.ndarray] = []
        self._keys: list[tuple[int, int]] = []
        self._probabilities: list[np.ndarray] = []

    def add(self, frame: Frame, faces: list[Observation]) -> None:
        if not faces:
            return
        grey = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        for face in faces:
            self._crops.append(self.classifier.crop(grey, face.box, roll(face.landmarks)))
            self._keys.append((face.track, frame.index))
        if len(self._crops) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._crops:
            self._probabilities.append(self.classifier(np.stack(self._crops)))
            self._crops.clear()

    def finish(self) -> Scores:
        self._flush()
        probabilities = np.concatenate(self._probabilities) if self._probabilities else np.zeros((0, labels.NUM_CLASSES))
        return Scores(dict(zip(self._keys, probabilities)))


class WindowScorer:
    """A trained video model over sliding windows of each face track (see the module docstring)."""

    def __init__(self, model: VideoModel, max_gap: int):
        self.model, self.max_gap, self.name = model, max_gap, model.name
        self.length, self.stride = model.length, max(model.length // 2, 1)
        self._buffers: dict[int, deque] = {}  # track → (frame, time, face crop, scene frame) of its last window
        self._since_window: dict[int, int] = {}  # track → frames added since its last window
        self._sums: dict[tuple[int, int], np.ndarray] = {}  # (track, frame) → summed probabilities, count
        self._windows: list[dict] = []

    def add(self, frame: Frame, faces: list[Observation]) -> None:
        if not faces:
            return
        model = self.model
        scene = (cv2.resize(frame.image, model.scene_size[::-1], interpolation=cv2.INTER_AREA)
                 if model.scene_size else None)
        for face in faces:
            buffer = self._buffers.setdefault(face.track, deque(maxlen=self.length))
            if buffer and frame.index - buffer[-1][0] > self.max_gap + 1:
                if self._since_window.get(face.track, 0) > 0:
                    self._classify(face.track)  # frames before the gap not yet in a window
                buffer.clear()  # the face was away: windows do not bridge the gap
            buffer.append((frame.index, frame.time, align_face(frame.image, face.landmarks, model.size), scene))
            self._since_window[face.track] = self._since_window.get(face.track, self.length) + 1
            if len(buffer) == self.length and self._since_window[face.track] >= self.stride:
                self._classify(face.track)

    def _classify(self, track: int) -> None:
        model = self.model
        items = list(self._buffers[track])
        faces = [item[2] for item in items]
        scenes = [item[3] for item in items] if model.scene_size else None
        video_input, scene_input, chosen = model.window_input(faces, scenes)
        output = model(video_input, scene_input)
        probabilities = output["probabilities"]
        for frame, _, _, _ in items:
            self._sums[(track, frame)] = self._sums.get((track, frame), 0) + np.append(probabilities, 1.0)
        window = {"track": track, "start_frame": items[0][0], "end_frame": items[-1][0],
                  "start": items[0][1], "end": items[-1][1],
                  **dict(zip(labels.EXPRESSIONS, probabilities.astype(float))),
                  "label": labels.EXPRESSIONS[int(probabilities.argmax())], "confidence": float(probabilities.max()),
                  "located_start_frame": None, "located_end_frame": None}
        if "located_clip" in output:  # CEFLNet: the sub-video it found most emotional
            per_clip = len(chosen) // model.clips
            picked = chosen[output["located_clip"] * per_clip:(output["located_clip"] + 1) * per_clip]
            located = [items[i][0] for i in picked]
            window["located_start_frame"], window["located_end_frame"] = min(located), max(located)
        self._windows.append(window)
        self._since_window[track] = 0

    def finish(self) -> Scores:
        for track, buffer in self._buffers.items():  # the tail of each track: one last (possibly short) window
            if buffer and self._since_window.get(track, 0) > 0 and len(buffer) >= min(self.length, 2):
                self._classify(track)
        probabilities = {key: total[:-1] / total[-1] for key, total in self._sums.items()}
        return Scores(probabilities, pd.DataFrame(self._windows, columns=WINDOW_COLUMNS))
