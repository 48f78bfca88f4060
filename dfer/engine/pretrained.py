"""Initialising a model from pretrained weights: a local state dict or checkpoint, or torchvision's.

``model.pretrained`` is either a file — a torchvision or timm state dict (optionally under
``state_dict`` / ``model``, ``module.`` prefixes of DataParallel stripped) or a ``dfer train``
checkpoint — or ``torchvision:<WEIGHTS>`` (e.g. ``torchvision:IMAGENET1K_V1`` for 2D ResNet
backbones and CEFLNet, ``torchvision:KINETICS400_V1`` for ``r3d_18`` / ``r2plus1d_18``), resolved
through torchvision's weights API and the standard torch hub cache: downloaded once when online,
and offline read from the cache, with an error naming the file and where to put it when absent.

Tensors are matched by name and shape (:func:`match`): a file made for a bare backbone is
re-rooted onto the model's backbone(s) (both streams of a two-stream model, RGB and flow of TSN),
so ImageNet's ``conv1.weight`` fills ``backbone.conv1.weight``. What is loaded, skipped (in the
file, not used) and missing (in the model, left as initialised) is reported; a classifier head
whose class count differs is skipped by shape, so it stays new.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import torch

from dfer.engine import checkpoint
from dfer.errors import DatasetError, InputError

TORCHVISION = "torchvision:"


@dataclass
class Transfer:
    """Which model tensor takes which file tensor (``loaded``: model name → file name), and the rest."""

    loaded: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # file name → why it was not used
    missing: list[str] = field(default_factory=list)  # model names not in the file

    def summary(self, source: str) -> dict:
        """Plain-data record for the run folder."""
        return {"source": source, "loaded": len(self.loaded), "skipped": len(self.skipped),
                "missing": len(self.missing), "loaded_tensors": self.loaded, "skipped_tensors": self.skipped,
                "missing_tensors": self.missing}


def match(model_shapes: dict[str, tuple], file_shapes: dict[str, tuple], min_share: float = 0.9) -> Transfer:
    """Pair model tensors with file tensors by name and shape.

    A pairing re-roots names: file name ``Q + s`` fills model name ``P + s`` for a file root ``Q``
    ("" or its first name component) and any model root ``P``. Every (P, Q) is scored by how many
    names and shapes agree; the best is used, and further model roots scoring at least
    ``min_share`` of the best (the second stream of a two-stream model, TSN's flow network, whose
    first convolution has other channels) are filled from the same file. Pure function of names
    and shapes.
    """
    suffixes: dict[str, list[str]] = defaultdict(list)  # dotted suffix → model roots P having P + suffix
    for name in model_shapes:
        parts = name.split(".")
        for cut in range(len(parts)):
            suffixes[".".join(parts[cut:])].append(".".join(parts[:cut]) + ("." if cut else ""))
    file_roots = {""} | {name.split(".")[0] + "." for name in file_shapes if "." in name}
    scores: Counter = Counter()
    for file_root in file_roots:
        for name, shape in file_shapes.items():
            if name.startswith(file_root):
                rest = name[len(file_root):]
                for model_root in suffixes.get(rest, ()):
                    if model_shapes[model_root + rest] == tuple(shape):
                        scores[model_root, file_root] += 1
    transfer = Transfer()
    if scores:
        best = scores.most_common(1)[0][1]
        for (model_root, file_root), score in scores.most_common():
            if score < min_share * best:
                break
            for name, shape in file_shapes.items():
                target = model_root + name[len(file_root):]
                if (name.startswith(file_root) and target in model_shapes and target not in transfer.loaded
                        and model_shapes[target] == tuple(shape)):
                    transfer.loaded[target] = name
    used = set(transfer.loaded.values())
    for name, shape in file_shapes.items():
        if name not in used:
            same_name = next((target for target, source in _renamings(name, model_shapes)), None)
            transfer.skipped[name] = (f"shape {tuple(shape)} ≠ model's {model_shapes[same_name]} ({same_name})"
                                      if same_name else "no model tensor of that name")
    transfer.missing = [name for name in model_shapes if name not in transfer.loaded]
    return transfer


def _renamings(name: str, model_shapes: dict) -> list[tuple[str, str]]:
    """Model names ending in ``name`` (for explaining a skipped tensor)."""
    return [(target, name) for target in model_shapes if target == name or target.endswith("." + name)]


def read_state(source: str, model: torch.nn.Module, progress: bool = True) -> dict[str, torch.Tensor]:
    """The tensors ``source`` names (see the module docstring), read without running code in the file."""
    if source.startswith(TORCHVISION):
        return torchvision_state(model, source[len(TORCHVISION):], progress)
    path = Path(source).expanduser()
    if not path.is_file():
        raise DatasetError(path, f"model.pretrained: no such file (give a state dict, a dfer checkpoint, or "
                           f"{TORCHVISION}<WEIGHTS>)")
    return state_dict_of(checkpoint.safe_load(path, "weights file"), path)


def state_dict_of(state, path: Path) -> dict[str, torch.Tensor]:
    """The name → tensor mapping inside a loaded file (a bare state dict, or one under a known key)."""
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DatasetError(path, "model.pretrained: expected a state dict (names → tensors), possibly under "
                           "'model' or 'state_dict'")
    return {name.removeprefix("module."): tensor for name, tensor in state.items()}


def torchvision_state(model: torch.nn.Module, weights_name: str, progress: bool = True) -> dict[str, torch.Tensor]:
    """torchvision's ``weights_name`` weights for the architecture ``model`` builds on
    (``model.torchvision_arch``), from the torch hub cache or downloaded into it."""
    from torchvision.models import get_model_weights

    arch = getattr(model, "torchvision_arch", None)
    if arch is None:
        raise InputError(f"model.pretrained={TORCHVISION}{weights_name}: {type(model).__name__} has no torchvision "
                         "counterpart; give a local state dict or dfer checkpoint instead")
    weights_enum = get_model_weights(arch)
    try:
        weights = weights_enum[weights_name]
    except KeyError:
        raise InputError(f"model.pretrained: torchvision has no {weights_name!r} weights for {arch}; choose one of "
                         f"{', '.join(w.name for w in weights_enum)}") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name
    if cached.is_file():
        return state_dict_of(checkpoint.safe_load(cached, "weights file"), cached)
    try:
        state = torch.hub.load_state_dict_from_url(weights.url, map_location="cpu", progress=progress,
                                                   weights_only=True)
    except Exception as error:  # offline (URLError), refused, or interrupted
        raise DatasetError(cached, f"torchvision weights {arch} {weights_name} are not in the torch cache and "
                           f"could not be downloaded ({type(error).__name__}: {error}). Download {weights.url} "
                           f"on a machine with network access and put it at {cached} (or set TORCH_HOME)") from None
    return state_dict_of(state, cached)


def load_pretrained(model: torch.nn.Module, source: str, progress: bool = True) -> Transfer:
    """Fill ``model``'s tensors from ``source`` by name and shape; the rest keep their initialisation.

    Raises when nothing matches (the file is for another architecture)."""
    state = read_state(source, model, progress)
    own = model.state_dict()
    transfer = match({name: tuple(t.shape) for name, t in own.items()},
                     {name: tuple(t.shape) for name, t in state.items()})
    if not transfer.loaded:
        raise InputError(f"model.pretrained={source}: none of its {len(state)} tensors fits {type(model).__name__} "
                         f"by name and shape (first in the file: {', '.join(list(state)[:3])})")
    with torch.no_grad():
        for target, name in transfer.loaded.items():
            own[target].copy_(state[name])
    return transfer
