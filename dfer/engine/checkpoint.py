"""Checkpoints: written atomically, restoring model, optimizer, scheduler and RNG state.

A checkpoint holds only tensors and plain data (numbers, strings, lists, dicts), so it is read with
``torch.load(weights_only=True)``: loading a file never runs code that is inside it. A file that
needs more (a pickle of arbitrary objects, or a checkpoint of dfer before 0.1's safe format, whose
NumPy random state was an array) is refused with the way out: :func:`upgrade` (``dfer checkpoint
upgrade OLD NEW``) converts a file its owner trusts.
"""

from __future__ import annotations

import pickle
import random
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from dfer.errors import DatasetError
from dfer.io.atomic import atomic_path, link_or_copy


def rng_state() -> dict:
    """The global random states a resumed run must continue from (tensors and plain numbers)."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                       "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    random.setstate(_tuples(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuples(value):
    """``random.getstate()`` after a save and load: its nested tuples may come back as lists."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def save(path: Path, payload: dict, copies: tuple[Path, ...] = ()) -> None:
    """``torch.save`` to a temporary file, then rename: a kill never leaves half a checkpoint. Each
    of ``copies`` then becomes the same file, serialised once (a hard link renamed into place, a copy
    across file systems): ``best.pt`` and ``last.pt`` of an improving epoch, 400 MB each for a 3D
    ResNet-18 with its Adam state."""
    with atomic_path(path) as partial:
        torch.save(payload, partial)
    for copy in copies:
        with atomic_path(copy) as partial:
            link_or_copy(path, partial)


def load(path: Path) -> dict:
    """A checkpoint written by :func:`save` (or any ``torch.save`` dict of tensors and plain data
    holding ``model``), read without running any code inside the file."""
    path = Path(path)
    payload = safe_load(path)
    if not isinstance(payload, dict) or "model" not in payload:
        raise DatasetError(path, "not a dfer checkpoint: expected a dict with a 'model' state")
    return payload


def safe_load(path: Path, what: str = "checkpoint"):
    """Whatever ``torch.save`` wrote to ``path`` (a ``what``), if it is only tensors and plain data;
    a file whose unpickling would run code is refused, naming what it holds."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, f"{what} not found")
    try:
        with warnings.catch_warnings():  # torch warns about pickles it did not write; the refusal says more
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        named = re.search(r"GLOBAL ([\w.]+)", str(error))
        raise DatasetError(path, f"refused: it holds {named.group(1) if named else 'a Python object'}, not only tensors "
                                 "and plain data, and loading it could run code. dfer reads only safe checkpoints; if you "
                                 "trust the file (e.g. one an older dfer wrote), convert it: "
                                 "dfer checkpoint upgrade OLD NEW") from None
    except Exception as error:  # torch raises several types for a damaged file
        raise DatasetError(path, f"cannot read as a {what} ({error})") from None


def upgrade(source: str | Path, target: str | Path) -> Path:
    """Rewrite a checkpoint its owner trusts in the safe format :func:`load` reads: NumPy values
    become tensors or plain numbers (an old dfer checkpoint's NumPy random state among them).

    This unpickles ``source`` in full (``weights_only=False``), which runs any code in it: only
    for files you made or trust. The result is checked to load safely before it is written.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise DatasetError(source, "checkpoint not found")
    if target.exists():
        raise DatasetError(target, "already exists; choose a new file for the upgraded checkpoint")
    try:
        payload = torch.load(source, map_location="cpu", weights_only=False)
    except Exception as error:
        raise DatasetError(source, f"cannot read as a checkpoint ({error})") from None
    if not isinstance(payload, dict) or "model" not in payload:
        raise DatasetError(source, "not a dfer checkpoint: expected a dict with a 'model' state")
    rng = payload.get("rng")
    if isinstance(rng, dict) and isinstance(rng.get("numpy"), tuple):
        kind, keys, position, has_gauss, cached_gaussian = rng["numpy"]
        rng["numpy"] = {"kind": kind, "keys": torch.from_numpy(np.asarray(keys).astype(np.int64)),
                        "position": int(position), "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}
    save(target, _plain(payload))
    try:
        load(target)
    except DatasetError as error:
        target.unlink()
        raise DatasetError(source, f"cannot be made safe: {error}") from None
    return target


def _plain(value):
    """``value`` with NumPy arrays as tensors and NumPy scalars as Python numbers, recursively."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


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
