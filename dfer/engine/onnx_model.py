"""A ``dfer export`` ONNX file run by onnxruntime, without torch: :class:`OnnxVideoModel`.

It has what ``dfer predict``'s window scorer uses of :class:`dfer.engine.inference.VideoModel`
(``name``, ``length``, ``size``, ``scene_size``, ``clips``, ``window_input``, ``__call__``) and
reproduces its test-time inputs from the file's metadata (:data:`METADATA_KEY`, written by
:mod:`dfer.engine.export`): the config's test sampler (:mod:`dfer.data.sampling`, NumPy only), the
test transform (torchvision's antialiased uint8 resize, bit for bit, :mod:`dfer.data.resize`; then
the same float32 normalisation) and, for TSN, the optical flow its graph takes as an input
(:mod:`dfer.models.flow`). Importing this module imports neither torch nor torchvision.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dfer import labels
from dfer.data.resize import resize_uint8
from dfer.data.sampling import make_sampler
from dfer.errors import DatasetError, InputError
from dfer.models.flow import stacked_flow

#: The ``metadata_props`` key holding dfer's description of the model (JSON).
METADATA_KEY = "dfer"
#: Version of that description; a file of a later version is refused.
METADATA_FORMAT = 1


def normalisation(transform: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel float32 scale and shift that map uint8 to normalised values, computed as
    :class:`dfer.data.transforms.Normalize` computes them (1 / (255 · std), −mean / std)."""
    mean, std = np.float32(transform["mean"]), np.float32(transform["std"])
    return np.float32(1) / (np.float32(255) * std), -mean / std


class OnnxVideoModel:
    """The ONNX file at ``path`` (written by ``dfer export``) ready to classify clips of uint8 RGB
    face crops (and scene frames), as :class:`~dfer.engine.inference.VideoModel` does its checkpoint.

    ``metadata`` is the file's description (model, classes, sampler, transforms, window, inputs);
    :meth:`outputs` runs a batch and gives every graph output by name.
    """

    def __init__(self, path: str | Path):
        import onnxruntime

        path = Path(path)
        if not path.is_file():
            raise DatasetError(path, "ONNX model not found")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own types for unreadable files
            raise DatasetError(path, f"cannot be read as an ONNX model ({str(error).splitlines()[0]})") from None
        text = self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if text is None:
            raise DatasetError(path, "an ONNX model without dfer's metadata (classes, sampler, transforms); dfer runs "
                                     "the ONNX files `dfer export CHECKPOINT` writes")
        meta = json.loads(text)
        if meta.get("format", 0) > METADATA_FORMAT:
            raise DatasetError(path, f"written by a newer dfer (metadata format {meta['format']}, this dfer reads "
                                     f"{METADATA_FORMAT}); upgrade dfer")
        if tuple(meta["classes"]) != labels.EXPRESSIONS:
            raise DatasetError(path, f"this model classifies {len(meta['classes'])} classes of its own "
                                     f"({', '.join(meta['classes'])}); clips are classified into dfer's 7 "
                                     f"({', '.join(labels.EXPRESSIONS)}) here")
        self.path, self.metadata = path, meta
        self.name = f"{meta['model']} ({path.name})"
        self.sampler = make_sampler(meta["sampler"]["name"], **meta["sampler"]["options"])
        self.length, self.clips = int(meta["length"]), int(meta["clips"])
        self.size = int(meta["size"][0])
        self.scene_size = tuple(meta["scene_size"]) if meta["scene_size"] else None
        self.inputs, self.output_names = list(meta["inputs"]), list(meta["outputs"])

    def window_input(self, faces: list[np.ndarray], scenes: list[np.ndarray] | None):
        """Model inputs ``(video (C, T, H, W), scene or None, chosen frame indices)`` for one clip
        of uint8 face crops (and scene frames), sampled and transformed as at test time."""
        chosen = np.ravel(self.sampler(len(faces), "test"))

        def clip(images, transform):  # uint8 (H, W, C) images → resized, normalised (C, T, H, W) float32
            frames = resize_uint8(np.stack([images[i] for i in chosen]), tuple(transform["resize"]))
            scale, shift = normalisation(transform)
            return np.ascontiguousarray((frames.astype(np.float32) * scale + shift).transpose(3, 0, 1, 2))

        scene = clip(scenes, self.metadata["scene_transform"]) if "scene" in self.inputs else None
        return clip(faces, self.metadata["transform"]), scene, chosen

    def outputs(self, video: np.ndarray, scene: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every graph output (``probabilities``, ``logits``; CEFLNet's ``located_clip`` and
        ``clip_scores``) for a batch ``(B, C, T, H, W)`` (and scenes)."""
        feeds = {"video": np.asarray(video, np.float32)}
        if "scene" in self.inputs:
            if scene is None:
                raise InputError(f"{self.name} is a two-stream model: it needs the scene clip as well")
            feeds["scene"] = np.asarray(scene, np.float32)
        if "flow" in self.inputs:
            flow = self.metadata["flow"]
            batch, channels, _, height, width = video.shape
            snippets = feeds["video"].reshape(batch, channels, flow["segments"], flow["length"] + 1, height, width)
            feeds["flow"] = stacked_flow(snippets, flow["bound"])
        return dict(zip(self.output_names, self.session.run(self.output_names, feeds)))

    def __call__(self, video: np.ndarray, scene: np.ndarray | None) -> dict:
        """One clip's probabilities (canonical order) and, for CEFLNet, its located sub-clip."""
        outputs = self.outputs(video[None], None if scene is None else scene[None])
        result = {"probabilities": outputs["probabilities"][0]}
        if "located_clip" in outputs:
            result["located_clip"] = int(outputs["located_clip"][0])
        return result
