"""Face tracking: detect every k frames, follow faces by their landmarks in between.

Per frame, :meth:`FaceTracker.update` returns one :class:`Observation` per face present. Between
detections each track's 68 landmarks are re-fitted inside the box carried over from the previous
frame, and the box follows the similarity that moved the landmarks. A detection runs anyway on a
shot cut (a jump in a grid of sampled grey pixels) and when a track's box jumps implausibly
(drift). Detections run on the frame shrunk to a working size (``detect_size`` on its shorter
side: HOG's cost grows with the pixels, and a face is found from ``min_face`` pixels there);
scheduled ones are shrunk further, by 2, 4, …, while the faces found stay large enough to be found
(4× cheaper per halving), except every ``full_every``-th (see :func:`detection_factor`). At a
detection, faces are matched to tracks by box overlap; a face that matches no track gets an
identity embedding and joins the track of the same person if one exists (one track per person),
else opens a new track. Identity is re-checked by embedding at cuts, when a lost track is matched
again, and every ``identity_every`` detections; a matched face whose embedding is too far from its
track's is a different person. A track that goes unseen for more than ``max_gap`` frames ends; if
it is seen again sooner, the frames in between are reported as failures of that track (see
:func:`dfer.preprocess.rules`).
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Iterator

import cv2
import numpy as np

from dfer.errors import InputError
from dfer.faces.align import five_points, similarity_transform
from dfer.faces.detect import Detection, Detector, make_detector
from dfer.faces.landmarks import FaceEmbedder, LandmarkPredictor
from dfer.io.video import Frame, VideoInfo, iter_frames, probe, read_ahead


@dataclass(frozen=True)
class TrackerOptions:
    """How often to detect and when to trust tracking; see the module docstring."""

    detect_every: int = 5  # frames between scheduled detections (1 = detect every frame)
    cut_threshold: float = 20.0  # mean absolute grey change (0–255) of a 32×18 pixel grid that marks a cut
    min_overlap: float = 0.3  # intersection over union for a detection to continue a track
    max_gap: int = 12  # frames a track may go unseen and still continue
    identity_every: int = 20  # re-check identity every this many detections of a track (0: only at cuts)
    same_person: float = FaceEmbedder.SAME_PERSON  # embedding distance under which faces are one person
    max_step: float = 0.35  # largest plausible per-frame move of a tracked box, in box sizes
    max_zoom: float = 1.25  # largest plausible per-frame scale change of a tracked box
    coarse_detection: bool = True  # scheduled detections on a frame shrunk further while faces are large
    min_face: float = 80.0  # smallest face (px) the detector finds on the frame it runs on (dlib HOG: 80)
    full_every: int = 4  # with coarse detection, every this-many-th scheduled detection is at the working size
    detect_size: int = 720  # working size: detect on frames shrunk to this shorter side (px; 0: full size)

    def __post_init__(self):
        if self.detect_every < 1:
            raise InputError(f"detect_every must be ≥ 1, got {self.detect_every}")
        if self.detect_size and self.detect_size < 120:
            raise InputError(f"detect_size must be 0 (full size) or at least 120 px, got {self.detect_size}")


@dataclass(frozen=True)
class Observation:
    """One face in one frame."""

    track: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (68, 2) float32
    score: float  # detector score; NaN when the face was tracked, not detected
    detected: bool
    identity_distance: float  # embedding distance to the track's identity; NaN when not computed


@dataclass
class _Track:
    id: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    identity: np.ndarray | None
    last_seen: int
    detections: int = 0
    active: bool = True


def _overlap(a, b) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _move_box(box, matrix: np.ndarray) -> tuple[tuple[float, float, float, float], float, float]:
    """The box carried by a similarity (centre mapped, size scaled), with the scale and the
    centre's move in box sizes."""
    left, top, right, bottom = box
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    moved = matrix[:, :2] @ centre + matrix[:, 2]
    half_w, half_h = (right - left) / 2 * scale, (bottom - top) / 2 * scale
    step = float(np.linalg.norm(moved - centre) / max(right - left, 1.0))
    return (moved[0] - half_w, moved[1] - half_h, moved[0] + half_w, moved[1] + half_h), scale, step


def detection_factor(height: int, width: int, detect_size: int, smallest: float | None = None,
                     min_face: float = 80.0) -> float:
    """How many times a frame is shrunk before detecting: to ``detect_size`` on its shorter side (0 or a
    smaller frame: not), then halved while the ``smallest`` face expected (full-frame pixels; None: no
    face to keep) stays at least ``min_face``."""
    factor = max(min(height, width) / detect_size, 1.0) if detect_size else 1.0
    while smallest is not None and smallest / (2 * factor) >= min_face:
        factor *= 2
    return factor


#: Face models loaded by :meth:`FaceTracker.shared`, by role (and detector options).
_SHARED: dict = {}


class FaceTracker:
    """Streams frames in order and returns the faces in each (see the module docstring)."""

    def __init__(self, options: TrackerOptions = TrackerOptions(), detector: Detector | None = None,
                 landmarks: LandmarkPredictor | None = None, embedder: FaceEmbedder | None = None):
        self.options = options
        self.detector = detector or make_detector("hog")
        self.landmarks = landmarks or LandmarkPredictor()
        self.embedder = embedder or FaceEmbedder()
        self.tracks: list[_Track] = []
        self.frame_index = -1
        self.detections_run = 0
        self._thumbnail: np.ndarray | None = None
        self._grid: tuple = ((), ())  # frame shape and the pixels _is_cut samples in it
        self.last_cut = False  # whether the latest frame followed a shot cut
        self._prefetched: list | None = None  # detections computed ahead for the current frame
        self._scheduled_runs = 0
        self._last_scheduled: list[Detection] = []
        self._detector_lock = threading.Lock()  # one detector object is never run by two threads at once

    def track(self, frames: Iterable, lookahead: int | None = None) -> Iterator[tuple[object, list[Observation]]]:
        """:meth:`update` over a stream of :class:`dfer.io.video.Frame`, yielding ``(frame, faces)``.

        Scheduled detections run ``lookahead`` frames ahead (default three detection periods: one at
        the working size takes several frames' time) in a background thread while this one follows
        faces, so detection costs little wall time on a machine with two cores or more. Results are
        identical to calling :meth:`update` per frame.
        """
        lookahead = 3 * self.options.detect_every if lookahead is None else lookahead
        pending: deque = deque()
        with ThreadPoolExecutor(1) as pool:
            for frame in frames:
                scheduled = (self.frame_index + 1 + len(pending)) % self.options.detect_every == 0
                pending.append((frame, pool.submit(self._scheduled_detection, frame.image) if scheduled else None))
                if len(pending) > lookahead:
                    yield self._next(pending)
            while pending:
                yield self._next(pending)

    def _next(self, pending: deque):
        frame, future = pending.popleft()
        self._prefetched = None if future is None else future.result()
        try:
            return frame, self.update(frame.image)
        finally:
            self._prefetched = None

    def _run_detector(self, image: np.ndarray, smallest: float | None = None) -> list[Detection]:
        """Detections in full-frame pixels, found on the frame shrunk by :func:`detection_factor`."""
        height, width = image.shape[:2]
        factor = detection_factor(height, width, self.options.detect_size, smallest, self.options.min_face)
        if factor > 1:
            size = (max(round(width / factor), 1), max(round(height / factor), 1))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        with self._detector_lock:
            found = self.detector(image)
        if factor == 1:
            return found
        scale_x, scale_y = width / size[0], height / size[1]
        return [Detection((d.box[0] * scale_x, d.box[1] * scale_y, d.box[2] * scale_x, d.box[3] * scale_y), d.score)
                for d in found]

    def _scheduled_detection(self, image: np.ndarray) -> list[Detection]:
        """A scheduled detection: shrunk further while the previous scheduled one's faces stay large enough
        (so none can be lost), except every ``full_every``-th. It depends only on earlier scheduled
        detections, so running it ahead (:meth:`track`) gives the same results as running it in order
        (:meth:`update`)."""
        options = self.options
        coarse = (options.coarse_detection and self._scheduled_runs % options.full_every != 0
                  and bool(self._last_scheduled))
        self._scheduled_runs += 1
        self._last_scheduled = self._run_detector(image, min(d.size for d in self._last_scheduled) if coarse else None)
        return self._last_scheduled

    @classmethod
    def shared(cls, options: TrackerOptions = TrackerOptions(), detector: str = "hog",
               detector_options: dict | None = None) -> "FaceTracker":
        """A fresh tracker whose models are loaded once per process and then shared (loading the
        landmark and embedding networks takes a second or two)."""
        detector_options = detector_options or {}
        key = (detector, tuple(sorted(detector_options.items())))
        if key not in _SHARED:
            _SHARED[key] = make_detector(detector, **detector_options)
        if "landmarks" not in _SHARED:
            _SHARED["landmarks"], _SHARED["embedder"] = LandmarkPredictor(), FaceEmbedder()
        return cls(options, _SHARED[key], _SHARED["landmarks"], _SHARED["embedder"])

    # -- per frame -------------------------------------------------------------------------------
    def update(self, image: np.ndarray) -> list[Observation]:
        """Faces in the next frame of the stream."""
        self.frame_index += 1
        cut = self.last_cut = self._is_cut(image)
        active = [t for t in self.tracks if t.active]
        scheduled = self.frame_index % self.options.detect_every == 0
        observations: dict[int, Observation] = {}
        drifted = False
        if not (scheduled or cut):
            for track in active:
                if track.last_seen != self.frame_index - 1:
                    continue  # unseen since an earlier detection: only a detection can bring it back
                observation = self._follow(image, track)
                if observation is None:
                    drifted = True
                    break
                observations[track.id] = observation
        if scheduled or cut or drifted:
            observations = self._detect(image, cut)
        for track in self.tracks:
            if track.active and self.frame_index - track.last_seen > self.options.max_gap:
                track.active = False
        return sorted(observations.values(), key=lambda o: o.track)

    def _is_cut(self, image: np.ndarray) -> bool:
        if self._grid[0] != image.shape:  # a 32 × 18 grid of sampled pixels, grey: cheap and enough
            height, width = image.shape[:2]
            rows, columns = np.linspace(0, height - 1, 18).astype(int), np.linspace(0, width - 1, 32).astype(int)
            self._grid = (image.shape, np.ix_(rows, columns))
        thumbnail = image[self._grid[1]].mean(axis=2, dtype=np.float32)
        previous, self._thumbnail = self._thumbnail, thumbnail
        return previous is not None and float(np.abs(thumbnail - previous).mean()) > self.options.cut_threshold

    def _follow(self, image: np.ndarray, track: _Track) -> Observation | None:
        """The track's face in this frame by re-fitting landmarks; None when the box jumps implausibly."""
        landmarks = self.landmarks(image, track.box)
        matrix = similarity_transform(five_points(track.landmarks), five_points(landmarks))
        box, scale, step = _move_box(track.box, matrix)
        if step > self.options.max_step or not 1 / self.options.max_zoom <= scale <= self.options.max_zoom:
            return None
        track.box, track.landmarks, track.last_seen = box, landmarks, self.frame_index
        return Observation(track.id, box, landmarks, float("nan"), False, float("nan"))

    def _detect(self, image: np.ndarray, cut: bool) -> dict[int, Observation]:
        """Detect faces, continue tracks they overlap, and give the rest tracks by identity."""
        self.detections_run += 1
        if self._prefetched is not None:
            found = self._prefetched
        elif self.frame_index % self.options.detect_every == 0:
            found = self._scheduled_detection(image)
        else:
            found = self._run_detector(image)
        detections = sorted(found, key=lambda d: -d.score)
        candidates = [t for t in self.tracks if t.active]
        observations: dict[int, Observation] = {}
        for detection in detections:
            landmarks = self.landmarks(image, detection.box)
            overlapping = [t for t in candidates if _overlap(t.box, detection.box) >= self.options.min_overlap]
            # the most recently seen overlapping track; a lost one must prove its identity
            track = max(overlapping, key=lambda t: (t.last_seen, _overlap(t.box, detection.box)), default=None)
            distance = float("nan")
            if track is not None:
                recheck = cut or track.identity is None or track.last_seen < self.frame_index - 1 or (
                    self.options.identity_every and track.detections % self.options.identity_every == 0)
                if recheck:
                    embedding = self.embedder(image, landmarks)
                    distance = self._distance(track, embedding)
                    if distance > self.options.same_person:
                        track = None  # same place, different person (e.g. across a cut)
                if track is not None:
                    candidates.remove(track)
            if track is None:
                embedding = self.embedder(image, landmarks)
                track, distance = self._identify(embedding, exclude=observations)
            track.box, track.landmarks, track.last_seen, track.active = detection.box, landmarks, self.frame_index, True
            track.detections += 1
            observations[track.id] = Observation(track.id, detection.box, landmarks, detection.score, True, distance)
        return observations

    def _distance(self, track: _Track, embedding: np.ndarray) -> float:
        if track.identity is None:
            track.identity = embedding
            return 0.0
        return float(np.linalg.norm(track.identity - embedding))

    def _identify(self, embedding: np.ndarray, exclude) -> tuple[_Track, float]:
        """The track of the closest known person within ``same_person`` (not one already in this
        frame), else a new track."""
        known = [(float(np.linalg.norm(t.identity - embedding)), t) for t in self.tracks
                 if t.identity is not None and t.id not in exclude]
        distance, track = min(known, key=lambda pair: pair[0], default=(np.inf, None))
        if track is not None and distance <= self.options.same_person:
            return track, distance
        track = _Track(len(self.tracks), (0, 0, 0, 0), np.zeros((68, 2), np.float32), embedding, self.frame_index)
        self.tracks.append(track)
        return track, 0.0


def face_stream(path, tracker: FaceTracker, info: VideoInfo | None = None) -> Iterator[tuple[Frame, list[Observation]]]:
    """Decode the video at ``path`` once, in order (frames read ahead in a thread), and track its
    faces: ``(frame, faces)`` per decoded frame. ``info`` is the video's :func:`probe` (probed if not given)."""
    return tracker.track(read_ahead(iter_frames(path, info or probe(path))))
