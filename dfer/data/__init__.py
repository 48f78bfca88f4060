"""Datasets: readers (DFEW, FERV39k, AFEW, CAER, MAFW, manifests), frame sampling, TIM, transforms, packed store.

``dfer.data.tim(frames, k)`` is the temporal interpolation model; ``read_dataset(root)`` reads any
supported dataset copy into a clip table (see :mod:`dfer.data.records`); ``ClipDataset`` turns a
clip table into ``(C, T, H, W)`` samples. The torch-based names load on first use, so reading and
checking data does not import torch.
"""

from importlib import import_module

from dfer.data.formats import detect_format, read_dataset
from dfer.data.records import COLUMNS, carve_validation
from dfer.data.sampling import make_sampler
from dfer.data.tim import tim
from dfer.errors import DatasetError

_LAZY = {
    "ClipDataset": "dfer.data.dataset",
    "clip_transform": "dfer.data.transforms",
    "pack": "dfer.data.packed",
    "open_store": "dfer.data.packed",
    "write_synthetic": "dfer.data.synth",
}

__all__ = ["COLUMNS", "DatasetError", "carve_validation", "detect_format", "make_sampler", "read_dataset",
           "tim", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dfer.data' has no attribute {name!r}")
