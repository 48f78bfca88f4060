"""68-point facial landmarks (iBUG 300-W layout) and face identity embeddings, both from dlib."""

from __future__ import annotations

import numpy as np

from dfer.faces.assets import model_path

#: Index ranges of the 68-point layout used for alignment and inter-ocular distance.
RIGHT_EYE = slice(36, 42)  # the subject's right eye (left in the image)
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_CORNERS = (48, 54)


def _rectangle(box):
    import dlib

    left, top, right, bottom = (int(round(v)) for v in box)
    return dlib.rectangle(left, top, max(right - 1, left + 1), max(bottom - 1, top + 1))


class LandmarkPredictor:
    """dlib's 68-point shape predictor (ensemble of regression trees) placed by a face box."""

    def __init__(self):
        import dlib

        self._predictor = dlib.shape_predictor(str(model_path("landmarks68")))

    def __call__(self, image: np.ndarray, box) -> np.ndarray:
        """Landmarks ``(68, 2)`` float32 (x, y) for the face in ``box`` = (left, top, right, bottom)."""
        shape = self._predictor(image, _rectangle(box))
        return np.array([(p.x, p.y) for p in shape.parts()], np.float32)


class FaceEmbedder:
    """dlib's ResNet face descriptor: 128-d embeddings whose Euclidean distance is below about 0.6
    for the same person (dlib's published operating point on LFW)."""

    #: Distance under which two embeddings are taken to be one person.
    SAME_PERSON = 0.6

    def __init__(self):
        import dlib

        self._model = dlib.face_recognition_model_v1(str(model_path("embedding")))

    def __call__(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The embedding ``(128,)`` float32 of the face with these 68 landmarks."""
        import dlib

        points = dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in landmarks])
        shape = dlib.full_object_detection(_rectangle(landmark_box(landmarks)), points)
        return np.array(self._model.compute_face_descriptor(image, shape), np.float32)


def landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """The bounding box of a set of landmarks."""
    (left, top), (right, bottom) = landmarks.min(axis=0), landmarks.max(axis=0)
    return float(left), float(top), float(right), float(bottom)


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres (pixels): the usual scale for landmark errors."""
    return float(np.linalg.norm(landmarks[LEFT_EYE].mean(axis=0) - landmarks[RIGHT_EYE].mean(axis=0)))
