"""From a run's data config to clip tables, datasets and loaders."""

from __future__ import annotations

import pandas as pd
import torch
from torch.utils.data import DataLoader, DistributedSampler

from dfer import labels
from dfer.data.dataset import ClipDataset
from dfer.data.formats import detect_format, read_dataset, reader_options
from dfer.data.mafw import shared_classes
from dfer.data.records import carve_validation
from dfer.data.sampling import make_sampler
from dfer.data.targets import ClassBalancedSampler
from dfer.data.transforms import clip_transform
from dfer.engine.config import ConfigError, DataConfig
from dfer.errors import DatasetError


def load_clips(data: DataConfig, seed: int, validation: bool = True) -> pd.DataFrame:
    """The configured dataset as a clip table with train/val/test splits (val carved from train,
    unless ``validation`` is False and the caller carves it)."""
    if not data.root:
        raise ConfigError("data.root is empty: set it in the config or with data.root=PATH")
    found = detect_format(data.root)
    if found != data.format:
        raise DatasetError(data.root, f"the config says data.format={data.format}, but this looks like {found}")
    options = reader_options(data.format, data.fold, data.setup, data.source, with_scene=data.scene)
    table = read_dataset(data.root, format=data.format, **options)
    if tuple(table.attrs.get("classes", labels.EXPRESSIONS)) != labels.EXPRESSIONS and data.classes == "shared":
        table = _shared_classes(table, data)
    if validation and not (table["split"] == "val").any() and data.val_fraction > 0:
        table = carve_validation(table, fraction=data.val_fraction, seed=seed)
    for split in ("train", "val", "test") if validation else ("train", "test"):
        if not (table["split"] == split).any():
            raise DatasetError(data.root, f"no {split} clips after reading {options or data.format} "
                               f"(splits found: {sorted(set(table['split']))})")
    if (table.loc[table["split"] != "", "label"] < 0).any():
        raise DatasetError(data.root, "some train/val/test clips have no label")
    return table


def _shared_classes(table: pd.DataFrame, data: DataConfig) -> pd.DataFrame:
    """A dataset with its own vocabulary (MAFW's 11 classes) on the classes dfer's 7 share
    (``data.classes: shared``; ``all`` keeps the dataset's own)."""
    if data.format != "mafw":
        raise DatasetError(data.root, f"labels index {len(table.attrs['classes'])} classes of their own, which dfer "
                           "cannot map onto its 7; train on them with data.classes=all")
    shared = shared_classes(table)
    print(f"{data.root}: MAFW's {len(table)} clips → the {len(shared)} of the 7 classes dfer shares with it "
          "(contempt, anxiety, helplessness and disappointment left out)", flush=True)
    return shared


def make_dataset(table: pd.DataFrame, data: DataConfig, train: bool, seed: int, views: int = 1,
                 soft_targets: bool = False, num_classes: int = labels.NUM_CLASSES) -> ClipDataset:
    """A ClipDataset with the config's sampler and the papers' train or test transforms (``views``
    test clips per row; vote distributions as ``target`` with ``soft_targets``)."""
    try:
        sampler = make_sampler(data.sampler.name, **data.sampler.options)
    except ValueError as error:
        raise ConfigError(f"data.sampler: {error}") from None
    return ClipDataset(
        table,
        sampler,
        mode="train" if train else "test",
        transform=clip_transform(train=train, size=tuple(data.size), crop_scale=tuple(data.crop_scale)),
        scene_transform=clip_transform(train=train, size=tuple(data.scene_size)) if data.scene else None,
        with_scene=data.scene,
        strict=data.strict,
        seed=seed,
        views=views,
        soft_targets=soft_targets,
        num_classes=num_classes,
    )


def make_loader(
    dataset: ClipDataset, batch_size: int, shuffle: bool, seed: int, workers: int, rank: int = 0, world: int = 1,
    balanced: bool = False,
) -> tuple[DataLoader, DistributedSampler | ClassBalancedSampler]:
    """A loader whose order depends only on (seed, epoch); with ``world`` > 1, this rank's shard.

    One process and ``world`` processes see the same global batches: rank r takes every
    ``world``-th clip of the same permutation (or, ``balanced``, of the same class-balanced draw),
    and the per-rank batch is ``batch_size / world``.
    """
    if batch_size % world:
        raise ConfigError(f"train.batch_size={batch_size} is not divisible by the {world} processes")
    if balanced:
        sampler = ClassBalancedSampler(dataset.table["label"].to_numpy(), dataset.num_classes, seed, rank, world)
    else:
        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=shuffle, seed=seed)
    loader = DataLoader(
        dataset,
        batch_size=batch_size // world,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=False,
    )
    return loader, sampler
