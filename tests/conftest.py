"""Shared fixtures: tiny hand-built release layouts and cached synthetic datasets."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def write_frames(folder: Path, names, size=16, seed=0):
    """Write small distinct JPEG frames named ``names`` into ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index, name in enumerate(names):
        image = np.full((size, size, 3), (index * 13) % 256, np.uint8)
        image[: size // 2] = rng.integers(0, 255, (size // 2, size, 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / name)
        paths.append(folder / name)
    return paths


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """``synthetic(format, clips)`` → root of a cached synthetic dataset (size 64, seed 0)."""
    from dfer.data.synth import write_synthetic

    cache = {}

    def make(format: str, clips: int = 60) -> Path:
        key = (format, clips)
        if key not in cache:
            root = tmp_path_factory.mktemp(f"synth_{format}_{clips}")
            write_synthetic(root, format, clips, seed=0, size=64, progress=False)
            cache[key] = root
        return cache[key]

    return make
