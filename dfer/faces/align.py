"""Face alignment: a similarity transform from landmarks to a canonical template, then a warp.

The template is the widely used five-point layout (eye centres, nose tip, mouth corners) of the
112 × 112 ArcFace crop, scaled towards the crop's centre by ``zoom`` so that brows, forehead and
chin — which carry expression — stay inside the crop. The transform is the least-squares
similarity (rotation, uniform scale, translation) of Umeyama (1991); it is written here because it
is ten lines of linear algebra and the libraries that offer it (scikit-image, OpenCV) would be a
heavy dependency for this one function.
"""

from __future__ import annotations

import cv2
import numpy as np

from dfer.faces.landmarks import LEFT_EYE, MOUTH_CORNERS, NOSE_TIP, RIGHT_EYE

#: Five canonical points in unit crop coordinates (x, y): image-left eye, image-right eye, nose
#: tip, image-left and image-right mouth corner (ArcFace's 112² template divided by 112).
TEMPLATE_5 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                       [41.5493, 92.3655], [70.7299, 92.2041]], np.float64) / 112.0

#: Default zoom: 0.8 keeps the brows, forehead and chin of an upright face in the crop.
ZOOM = 0.8


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """The template's five points ``(5, 2)`` from 68 landmarks (eye centres are means of 6 points)."""
    return np.stack([landmarks[RIGHT_EYE].mean(axis=0), landmarks[LEFT_EYE].mean(axis=0),
                     landmarks[NOSE_TIP], landmarks[MOUTH_CORNERS[0]], landmarks[MOUTH_CORNERS[1]]])


def roll(landmarks: np.ndarray) -> float:
    """The head's roll in degrees: the angle of the line from the subject's right eye centre to the
    left one in image coordinates (0 when the eyes are level; positive when the head leans to the
    subject's left, clockwise on screen)."""
    right, left = landmarks[RIGHT_EYE].mean(axis=0), landmarks[LEFT_EYE].mean(axis=0)
    return float(np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0])))


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2 × 3 matrix of the similarity that best maps ``source`` points onto ``target`` (least squares)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / source_centred.var(axis=0).sum()
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])


def template_points(size: int, zoom: float = ZOOM) -> np.ndarray:
    """The five template points in pixels of a ``size`` × ``size`` crop."""
    return (0.5 + (TEMPLATE_5 - 0.5) * zoom) * size


def alignment_matrix(landmarks: np.ndarray, size: int, zoom: float = ZOOM) -> np.ndarray:
    """The 2 × 3 matrix taking image pixels to aligned-crop pixels for a face with 68 landmarks."""
    return similarity_transform(five_points(landmarks), template_points(size, zoom))


def warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The ``size`` = (height, width) crop of ``image`` under the 2 × 3 image→crop ``matrix``
    (bilinear, black outside the image). Pixel indices map to pixel indices (OpenCV's convention)."""
    height, width = size
    return cv2.warpAffine(image, np.asarray(matrix, np.float64), (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 224, zoom: float = ZOOM) -> np.ndarray:
    """The aligned ``size`` × ``size`` RGB face crop for a face with 68 landmarks."""
    return warp(image, alignment_matrix(landmarks, size, zoom), (size, size))
