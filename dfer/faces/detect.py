"""Face detectors behind one small interface, so better detectors can be added later.

A detector is any callable object ``detector(image) -> list[Detection]`` for an RGB uint8
``(H, W, 3)`` image; :data:`DETECTORS` maps names to factories and :func:`make_detector` builds one
by name. Two come with dlib: the HOG + linear SVM frontal detector (fast on a CPU: the default)
and the MMOD CNN detector (more robust to pose and occlusion, about 1–4 s per frame on a CPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import cv2
import numpy as np

from dfer.errors import InputError
from dfer.faces.assets import model_path


@dataclass(frozen=True)
class Detection:
    """A face box ``(left, top, right, bottom)`` in image pixels with the detector's score."""

    box: tuple[float, float, float, float]
    score: float

    @property
    def size(self) -> float:
        """Geometric mean of the box's width and height (pixels)."""
        left, top, right, bottom = self.box
        return float(np.sqrt(max(right - left, 0.0) * max(bottom - top, 0.0)))


class Detector(Protocol):
    """What the tracker needs of a detector."""

    def __call__(self, image: np.ndarray) -> list[Detection]: ...


def _downscaled(image: np.ndarray, max_width: int | None) -> tuple[np.ndarray, float]:
    """The image shrunk to at most ``max_width`` pixels wide, and the factor back to full size."""
    height, width = image.shape[:2]
    if not max_width or width <= max_width:
        return image, 1.0
    factor = width / max_width
    return cv2.resize(image, (max_width, round(height / factor)), interpolation=cv2.INTER_AREA), factor


class HogDetector:
    """dlib's HOG frontal face detector.

    ``upsample`` doubles the image that many times first (finds faces under ~80 px, 4× slower
    each); ``threshold`` is the SVM score a detection needs (dlib's default 0; higher is stricter);
    ``max_width`` shrinks wide frames before detecting (faster; faces must stay ≥ ~80 px there).
    """

    def __init__(self, upsample: int = 0, threshold: float = 0.0, max_width: int | None = None):
        import dlib

        self.upsample, self.threshold, self.max_width = upsample, threshold, max_width
        self._detector = dlib.get_frontal_face_detector()

    def __call__(self, image: np.ndarray) -> list[Detection]:
        small, factor = _downscaled(image, self.max_width)
        rects, scores, _ = self._detector.run(small, self.upsample, self.threshold)
        return [Detection((r.left() * factor, r.top() * factor, (r.right() + 1) * factor,
                           (r.bottom() + 1) * factor), float(s)) for r, s in zip(rects, scores)]


class CnnDetector:
    """dlib's MMOD CNN face detector (``mmod_human_face_detector.dat``); slow on a CPU."""

    def __init__(self, upsample: int = 0, threshold: float = 0.0, max_width: int | None = 640):
        import dlib

        self.upsample, self.threshold, self.max_width = upsample, threshold, max_width
        self._detector = dlib.cnn_face_detection_model_v1(str(model_path("cnn_detector")))

    def __call__(self, image: np.ndarray) -> list[Detection]:
        small, factor = _downscaled(image, self.max_width)
        found = self._detector(small, self.upsample)
        return [Detection((d.rect.left() * factor, d.rect.top() * factor, (d.rect.right() + 1) * factor,
                           (d.rect.bottom() + 1) * factor), float(d.confidence))
                for d in found if d.confidence >= self.threshold]


#: Detector name → factory taking keyword options.
DETECTORS: dict[str, Callable[..., Detector]] = {"hog": HogDetector, "cnn": CnnDetector}


def make_detector(name: str = "hog", **options) -> Detector:
    """A detector by name (see :data:`DETECTORS`); unknown names list the known ones."""
    if name not in DETECTORS:
        raise InputError(f"unknown face detector {name!r}; expected one of {sorted(DETECTORS)}")
    return DETECTORS[name](**options)
