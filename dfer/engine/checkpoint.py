"""Checkpoints: written atomically, restoring model, optimizer, scheduler and RNG state."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from dfer.errors import DatasetError
from dfer.io.atomic import atomic_path


def rng_state() -> dict:
    """The global random states a resumed run must continue from."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: Path, payload: dict) -> None:
    """``torch.save`` to a temporary file, then rename: a kill never leaves half a checkpoint."""
    with atomic_path(path) as partial:
        torch.save(payload, partial)


def load(path: Path) -> dict:
    """A checkpoint written by :func:`save` (or any ``torch.save`` dict holding ``model``)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, "checkpoint not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # torch raises several types for a damaged file
        raise DatasetError(path, f"cannot read as a checkpoint ({error})") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise DatasetError(path, "not a dfer checkpoint: expected a dict with a 'model' state")
    return payload


def load_model_weights(model: torch.nn.Module, payload: dict, path: Path, model_name: str, num_classes: int) -> None:
    """Load a checkpoint's weights into ``model``, refusing one made for another model or class count."""
    saved_name = payload.get("model_name")
    if saved_name is not None and saved_name != model_name:
        raise DatasetError(path, f"checkpoint is for model {saved_name!r}, not {model_name!r}")
    saved_classes = payload.get("num_classes")
    if saved_classes is not None and saved_classes != num_classes:
        raise DatasetError(path, f"checkpoint has {saved_classes} classes, the model {num_classes}")
    state = {key.removeprefix("module."): value for key, value in payload["model"].items()}
    own = model.state_dict()
    missing = [key for key in own if key not in state]
    unexpected = [key for key in state if key not in own]
    mismatched = [key for key in state if key in own and own[key].shape != state[key].shape]
    if missing or unexpected or mismatched:
        raise DatasetError(path, f"weights do not fit model {model_name!r}: missing {missing[:5]}, "
                           f"unexpected {unexpected[:5]}, wrong shape {mismatched[:5]}")
    model.load_state_dict(state)
