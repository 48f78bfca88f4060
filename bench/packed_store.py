"""Clip loading speed: JPEG folders vs the packed store, over the same synthetic clips.

Writes ``--clips`` synthetic DFEW clips (224² JPEG face crops, :mod:`dfer.data.synth`) to a
temporary folder and packs their face frames at 112². Then loads 16 uniformly sampled frames per
clip through ClipDataset (test mode, resize to 112) from each source, single process, and prints
clips/s, their ratio and the sizes on disk. Timings only; nothing is asserted.

    python bench/packed_store.py [--clips N] [--workers W]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from dfer.data.dataset import ClipDataset
from dfer.data.packed import open_store, pack
from dfer.data.records import list_frames, make_table
from dfer.data.sampling import make_sampler
from dfer.data.synth import write_synthetic
from dfer.data.transforms import clip_transform

SOURCE_SIZE = 224
SIZE = 112
SAMPLED_FRAMES = 16


def clip_table(root: Path) -> pd.DataFrame:
    """One row per face-crop folder of a synthetic DFEW tree (clips without faces have none)."""
    rows = []
    for folder in sorted((root / "Clip" / "clip_224x224").iterdir()):
        frames = list_frames(folder)
        if frames:
            rows.append({"clip_id": folder.name, "dataset": "synthetic", "frames": frames,
                         "split": "test", "num_frames": len(frames)})
    return make_table(rows)


def clips_per_second(dataset: ClipDataset, repeats: int = 3) -> float:
    """Clips loaded per second over a pass of ``dataset`` in this process (best of ``repeats``)."""
    dataset[0]  # warm-up: imports, first memory map
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for index in range(len(dataset)):
            dataset[index]
        best = min(best, time.perf_counter() - start)
    return len(dataset) / best


def folder_bytes(paths) -> int:
    """Total size of the files ``paths``."""
    return sum(Path(path).stat().st_size for path in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200, help="synthetic clips to write (at least 10)")
    parser.add_argument("--workers", type=int, default=2, help="threads used while packing")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="dfer-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        write_synthetic(root / "dfew", "dfew", args.clips, seed=args.seed, size=SOURCE_SIZE, progress=False)
        table = clip_table(root / "dfew")
        elapsed = time.perf_counter() - start
        frames = int(table["num_frames"].sum())
        print(f"wrote {len(table)} face clips, {frames} JPEG frames ({SOURCE_SIZE}²), in {elapsed:.1f} s")

        start = time.perf_counter()
        store = pack(table, root / "store", size=SIZE, workers=args.workers, progress=False)
        print(f"packed at {SIZE}² with {args.workers} worker(s) in {time.perf_counter() - start:.1f} s")

        sampler = make_sampler("uniform", k=SAMPLED_FRAMES)
        transform = clip_transform(train=False, size=SIZE)
        jpeg_rate = clips_per_second(ClipDataset(table, sampler, mode="test", transform=transform))
        store_rate = clips_per_second(ClipDataset(open_store(store), sampler, mode="test", transform=transform))

        jpeg_size = sum(folder_bytes(paths) for paths in table["frames"])
        store_size = folder_bytes(path for path in store.iterdir() if path.is_file())
        shape = (3, SAMPLED_FRAMES, SIZE, SIZE)
        print(f"\nloading {SAMPLED_FRAMES} frames/clip → {shape}, test mode, 1 process:")
        print(f"  JPEG folders : {jpeg_rate:8.1f} clips/s")
        print(f"  packed store : {store_rate:8.1f} clips/s")
        print(f"  speed-up     : {store_rate / jpeg_rate:8.1f}× (goal ≥ 10×)")
        print(f"size on disk: JPEG {jpeg_size / 2**20:.1f} MiB ({SOURCE_SIZE}²), "
              f"store {store_size / 2**20:.1f} MiB ({SIZE}², raw), ratio {store_size / jpeg_size:.2f}")


if __name__ == "__main__":
    main()
