"""Datasets: readers (DFEW, FERV39k, manifests), frame sampling, TIM, transforms, packed store.

``dfer.data.tim(frames, k)`` is the temporal interpolation model; ``read_dataset(root)`` reads any
supported dataset copy into a clip table (see :mod:`dfer.data.records`).
"""

from dfer.data.formats import detect_format, read_dataset
from dfer.data.records import COLUMNS, carve_validation
from dfer.errors import DatasetError
from dfer.data.tim import tim

__all__ = ["COLUMNS", "DatasetError", "carve_validation", "detect_format", "read_dataset", "tim"]
