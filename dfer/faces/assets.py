"""Where the offline face models live: the ``face-recognition-models`` package's data files."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

#: Model files of ``face-recognition-models`` 0.3.0 by role.
MODEL_FILES = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn_detector": "mmod_human_face_detector.dat",
}


class FaceModelsMissing(RuntimeError):
    """The face model files are not installed; the message says how to install them."""


@lru_cache(maxsize=None)
def model_path(role: str) -> Path:
    """Path of one face model file (``landmarks68``, ``embedding`` …), without importing the package.

    The package's ``__init__`` needs ``pkg_resources``, which recent setuptools no longer ships, so
    the files are found through the import system's spec instead of by importing it.
    """
    if role not in MODEL_FILES:
        raise KeyError(f"unknown face model {role!r}; expected one of {sorted(MODEL_FILES)}")
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelsMissing("the face models are not installed: pip install face-recognition-models==0.3.0 "
                                "(or reinstall dfer, which depends on it)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILES[role]
    if not path.is_file():
        raise FaceModelsMissing(f"{path} is missing; reinstall face-recognition-models==0.3.0")
    return path
