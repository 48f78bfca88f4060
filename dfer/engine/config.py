"""Run configuration: YAML files under ``configs/`` plus ``key=value`` overrides, checked strictly.

A config is a tree of dataclasses. Every key of a YAML file or override must exist, and every
value must have the field's type and, for choice fields (``Literal``), one of its choices; a typo
fails at once with the key and the valid keys or choices.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from dfer.errors import DatasetError, InputError


class ConfigError(InputError):
    """A config key or value is not valid; the message names it and what is allowed."""


@dataclass
class SamplerConfig:
    name: Literal["uniform", "segments", "ceflnet"] = "uniform"
    options: dict[str, Any] = field(default_factory=lambda: {"k": 8})


@dataclass
class DataConfig:
    format: Literal["dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "packed"] = "ferv39k"
    root: str = ""
    fold: int = 1
    setup: str = "All"
    source: str = ""
    val_fraction: float = 0.1
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    size: list[int] = field(default_factory=lambda: [112, 112])
    scene: bool = False
    scene_size: list[int] = field(default_factory=lambda: [112, 168])
    crop_scale: list[float] = field(default_factory=lambda: [0.8, 1.0])
    workers: int = 2
    strict: bool = False
    classes: Literal["shared", "all"] = "shared"


@dataclass
class ModelConfig:
    name: str = "resnet18_lstm"
    options: dict[str, Any] = field(default_factory=dict)
    checkpoint: str = ""
    pretrained: str = ""


@dataclass
class LossConfig:
    kind: Literal["ce", "softmax_bce", "ec_stfl", "center"] = "ce"
    lam: float | None = None
    label_smoothing: float = 0.0
    center_alpha: float = 0.5
    class_weights: Literal["none", "balanced"] = "none"
    soft_targets: bool = False


@dataclass
class OptimConfig:
    name: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    backbone_lr_mult: float = 1.0


@dataclass
class ScheduleConfig:
    name: Literal["none", "exponential", "plateau", "cosine"] = "exponential"
    gamma: float = 0.95
    factor: float = 0.1
    patience: int = 5
    warmup_epochs: int = 0
    min_lr: float = 0.0


@dataclass
class TrainConfig:
    epochs: int = 60
    batch_size: int = 32
    eval_batch_size: int = 0
    amp: bool = True
    grad_clip: float = 0.0
    select_metric: Literal["war", "uar"] = "war"
    max_steps_per_epoch: int = 0
    progress: bool = True
    sampler: Literal["shuffle", "class_balanced"] = "shuffle"
    freeze: list[str] = field(default_factory=list)


@dataclass
class EvalConfig:
    clips: int = 1


@dataclass
class RunConfig:
    name: str = "run"
    seed: int = 0
    deterministic: bool = False
    out: str = "runs"
    protocol: Literal["single", "dfew_folds", "cross_scenario"] = "single"
    folds: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> RunConfig:
    """The config in YAML file ``path`` (defaults where absent) with ``key=value`` overrides applied."""
    config = build(RunConfig, read_tree(path, overrides), "")
    for key, value, low in (("train.epochs", config.train.epochs, 1), ("train.batch_size", config.train.batch_size, 1),
                            ("data.size", min(config.data.size, default=0), 1),
                            ("data.scene_size", min(config.data.scene_size, default=0), 1),
                            ("eval.clips", config.eval.clips, 1)):
        if value < low:
            raise ConfigError(f"{key} must be at least {low}, got {value}")
    if not 0 < config.loss.center_alpha <= 1:
        raise ConfigError(f"loss.center_alpha must be in (0, 1], got {config.loss.center_alpha}")
    if config.optim.backbone_lr_mult <= 0:
        raise ConfigError(f"optim.backbone_lr_mult must be positive, got {config.optim.backbone_lr_mult}")
    if config.optim.backbone_lr_mult != 1 and not config.model.pretrained:
        raise ConfigError("optim.backbone_lr_mult scales the rate of the pretrained tensors: set model.pretrained")
    return config


def read_tree(path: str | Path | None = None, overrides: list[str] = ()) -> dict:
    """The mapping in YAML file ``path`` (empty without one) with dotted ``key=value`` overrides set."""
    tree: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise DatasetError(path, "config file not found")
        try:
            tree = yaml.load(path.read_text(), Loader=_UniqueKeyLoader) or {}
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
        if not isinstance(tree, dict):
            raise ConfigError(f"{path}: expected a mapping of config keys at the top level")
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key:
            raise ConfigError(f"override {override!r} is not of the form key=value (e.g. train.epochs=5)")
        _set_dotted(tree, key.strip(), yaml.safe_load(text) if text.strip() else "")
    return tree


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def to_dict(config) -> dict:
    """The config as plain data (for run records and YAML)."""
    return dataclasses.asdict(config)


def build(cls, tree: dict, prefix: str):
    """Instantiate dataclass ``cls`` from ``tree``, checking every key and value."""
    if not isinstance(tree, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {tree!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values = {}
    for key, value in tree.items():
        where = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ConfigError(f"unknown config key {where!r}{hint}; valid keys here: {', '.join(names)}")
        values[key] = _check(hints[key], value, where)
    return cls(**values)


def _check(kind, value, where: str):
    if dataclasses.is_dataclass(kind):
        return build(kind, value if value is not None else {}, f"{where}.")
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        kind = next(a for a in args if a is not type(None))
        return _check(kind, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_check(args[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if kind is float and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:  # YAML reads 1e-4 (no dot) as a string
            return float(value)
        except ValueError:
            pass
    if kind is Any or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    raise ConfigError(f"{where}: expected {getattr(kind, '__name__', kind)}, got {value!r}")


def _set_dotted(tree: dict, key: str, value) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section")
    node[parts[-1]] = value
