"""From a checkpoint to predictions: the one place where a trained dfer model is rebuilt and run.

- :func:`model_from_config` builds a run's model; :func:`load_weights` puts a checkpoint's weights
  into it (refusing weights made for another model or class count); :func:`load_checkpoint` does
  both for a ``dfer train`` checkpoint, from the config it records (or one given).
- :class:`VideoModel` is a checkpoint ready for clips of uint8 face crops: the model, its config's
  test sampler and test transforms (``dfer predict --model``, spotting features, candidate scoring).
- :func:`predict` is the batched evaluation loop over a loader (validation in training, ``dfer
  evaluate``, the test split of every protocol).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from dfer import labels
from dfer.data.sampling import make_sampler
from dfer.data.transforms import clip_transform
from dfer.engine import checkpoint
from dfer.engine.config import ConfigError, ModelConfig, RunConfig, build
from dfer.errors import DatasetError
from dfer.models.zoo import build_model


def model_from_config(config: ModelConfig, num_classes: int = labels.NUM_CLASSES) -> torch.nn.Module:
    """The configured zoo model (by default with dfer's 7 canonical classes), randomly initialised."""
    try:
        return build_model(config.name, num_classes=num_classes, **config.options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model: {error}") from None


def load_weights(model: torch.nn.Module, path: str | Path, model_name: str, payload: dict | None = None,
                 num_classes: int = labels.NUM_CLASSES) -> dict:
    """Load the weights of the checkpoint at ``path`` (or its already read ``payload``) into
    ``model`` (of ``num_classes`` classes); returns the payload (optimizer and RNG states too, for
    a resumed run)."""
    payload = checkpoint.load(path) if payload is None else payload
    checkpoint.load_model_weights(model, payload, Path(path), model_name, num_classes)
    return payload


def checkpoint_classes(payload: dict) -> tuple[str, ...]:
    """The class names a checkpoint's outputs stand for (dfer's 7 for files that do not say)."""
    return tuple(payload.get("classes") or labels.EXPRESSIONS)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", config: RunConfig | None = None
                    ) -> tuple[torch.nn.Module, RunConfig, tuple[str, ...]]:
    """The model of a ``dfer train`` checkpoint, weights loaded, in eval mode on ``device``, its
    run config (the one recorded in the checkpoint, unless ``config`` is given) and its classes."""
    payload = checkpoint.load(path)
    if config is None:
        if "config" not in payload or "model_name" not in payload:
            raise DatasetError(path, "not a dfer training checkpoint (no config/model_name); train one with `dfer train`")
        config = build(RunConfig, payload["config"], "")
    classes = checkpoint_classes(payload)
    model = model_from_config(config.model, len(classes))
    load_weights(model, path, config.model.name, payload, len(classes))
    return model.to(device).eval(), config, classes


def trained_config(path: str | Path) -> RunConfig | None:
    """The run config a ``dfer train`` checkpoint records (None for a file without one)."""
    payload = checkpoint.load(path)
    return build(RunConfig, payload["config"], "") if isinstance(payload.get("config"), dict) else None


class VideoModel:
    """A trained dfer checkpoint ready to classify clips of uint8 RGB face crops (and scene frames).

    ``length`` is the window a clip should span: CEFLNet's clip timeline (105 frames), else the
    number of frames the model takes (8, 16, …); ``size`` and ``scene_size`` are the config's input
    sizes (``scene_size`` None for face-only models); ``clips`` is the number of sub-clips a window
    is cut into (CEFLNet's located clip is one of them; 1 for the other models).
    """

    def __init__(self, model: torch.nn.Module, config: RunConfig, name: str, device: str | torch.device = "cpu"):
        self.model, self.config, self.name = model, config, name
        self.device = torch.device(device)
        data = config.data
        self.sampler = make_sampler(data.sampler.name, **data.sampler.options)
        self.length = (int(data.sampler.options.get("total", 105)) if data.sampler.name == "ceflnet"
                       else np.ravel(self.sampler(10_000, "test")).size)
        self.size = int(data.size[0])
        self.transform = clip_transform(train=False, size=tuple(data.size))
        self.scene_size = tuple(data.scene_size) if data.scene else None
        self.scene_transform = clip_transform(train=False, size=self.scene_size) if data.scene else None
        self.clips = int(config.model.options.get("clips", 7)) if data.sampler.name == "ceflnet" else 1

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> "VideoModel":
        """The checkpoint at ``path`` (see :func:`load_checkpoint`) with its config's test sampler and transforms."""
        model, config, classes = load_checkpoint(path, device)
        if classes != labels.EXPRESSIONS:
            raise DatasetError(path, f"this checkpoint classifies {len(classes)} classes of its own ({', '.join(classes)}); "
                               f"clips are classified into dfer's 7 ({', '.join(labels.EXPRESSIONS)}) here. "
                               "Evaluate it with dfer evaluate, or train on the shared classes (data.classes=shared)")
        return cls(model, config, f"{config.model.name} ({Path(path).name})", device)

    def window_input(self, faces: list[np.ndarray], scenes: list[np.ndarray] | None):
        """Model inputs ``(video (C, T, H, W), scene or None, chosen frame indices)`` for one clip
        of uint8 face crops (and scene frames), sampled and transformed as at test time."""
        chosen = np.ravel(self.sampler(len(faces), "test"))

        def clip(images, transform):  # uint8 (T, H, W, C) → transform on (T, C, H, W) → (C, T, H, W)
            frames = torch.from_numpy(np.stack([images[i] for i in chosen])).permute(0, 3, 1, 2)
            return transform(frames).permute(1, 0, 2, 3)

        scene = clip(scenes, self.scene_transform) if self.scene_transform is not None else None
        return clip(faces, self.transform), scene, chosen

    @torch.inference_mode()
    def outputs(self, video: torch.Tensor, scene: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The model's outputs for a batch ``(B, C, T, H, W)`` (and scenes), on the CPU."""
        outputs = self.model(video.to(self.device), None if scene is None else scene.to(self.device))
        return {key: value.float().cpu() for key, value in outputs.items()}

    def __call__(self, video: torch.Tensor, scene: torch.Tensor | None) -> dict:
        """One clip's probabilities (canonical order) and, for CEFLNet, its located sub-clip."""
        outputs = self.outputs(video[None], None if scene is None else scene[None])
        result = {"probabilities": outputs["logits"].softmax(dim=1)[0].numpy()}
        if "located_clip" in outputs:
            result["located_clip"] = int(outputs["located_clip"][0])
        return result


def move(batch: dict, device: torch.device) -> dict:
    """The batch's tensors on ``device``."""
    return {key: value.to(device, non_blocking=True) if torch.is_tensor(value) else value
            for key, value in batch.items()}


def forward(model: torch.nn.Module, batch: dict) -> dict:
    """The model's outputs for a loader batch (``video`` and, for two-stream models, ``scene``)."""
    return model(batch["video"], batch.get("scene"))


@torch.no_grad()
def predict(model: torch.nn.Module, loader, device: torch.device, amp: bool = False, progress: bool = False,
            keep_features: bool = False) -> dict:
    """Labels, predictions, probabilities (and features / CEFLNet clip scores) over ``loader``."""
    model.eval()
    gathered: dict[str, list] = {"label": [], "prediction": [], "probabilities": [], "clip_id": [], "index": []}
    extra: dict[str, list] = {}
    for batch in tqdm(loader, desc="evaluating", unit="batch", leave=False, disable=None if progress else True):  # None: off when not a terminal
        batch = move(batch, device)
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            outputs = forward(model, batch)
        probabilities = outputs["logits"].float().softmax(dim=1)
        gathered["label"].append(batch["label"].cpu().numpy())
        gathered["prediction"].append(probabilities.argmax(dim=1).cpu().numpy())
        gathered["probabilities"].append(probabilities.cpu().numpy())
        gathered["clip_id"].extend(batch["clip_id"])
        gathered["index"].append(batch["index"].cpu().numpy())
        wanted = ["features"] if keep_features else []
        wanted += [key for key in ("clip_scores", "located_clip") if key in outputs]
        for key in wanted:
            extra.setdefault(key, []).append(outputs[key].float().cpu().numpy())
    result = {key: (np.concatenate(value) if key != "clip_id" else value) for key, value in gathered.items()}
    result.update({key: np.concatenate(value) for key, value in extra.items()})
    return result
