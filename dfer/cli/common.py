"""What several commands share: argument types, the dataset-reader arguments, tables from files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def size(text: str) -> tuple[int, int]:
    """``112`` → (112, 112); ``112x168`` → (112, 168) as (height, width)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size like 112 or 112x168, got {text!r}") from None
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected a size like 112 or 112x168, got {text!r}")
    return (parts[0], parts[-1])


def sizes(parse):
    """An argument type for a comma-separated list of ``parse``-d values (empty: none)."""
    return lambda text: [parse(part) for part in text.split(",") if part.strip()]


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset root and the reader options of ``dfer data stats|pack``."""
    parser.add_argument("root", type=Path, help="dataset root, manifest file or packed store")
    parser.add_argument("--format", choices=("dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "packed"),
                        help="dataset format (default: detected from the files)")
    parser.add_argument("--fold", type=int, choices=(1, 2, 3, 4, 5), help="DFEW or MAFW fold (default: all clips)")
    parser.add_argument("--setup", default="All", help="FERV39k setup: All, DL, WIS, SIA, AI or a scene")
    parser.add_argument("--source", help="DFEW: clip_224x224 | clip_224x224_16f | original; "
                        "FERV39k: faces | video; MAFW: clips | frames")
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="carve a stratified validation split from the training clips (e.g. 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the validation split (default 0)")


def read_clips(args, with_scene: bool = False) -> tuple[pd.DataFrame, str]:
    """The clip table the reader arguments describe (:func:`add_reader_arguments`) and its format."""
    from dfer.data.formats import detect_format, read_dataset, reader_options
    from dfer.data.records import carve_validation

    format = args.format or detect_format(args.root)
    options = reader_options(format, args.fold, args.setup, args.source, with_scene=with_scene)
    table = read_dataset(args.root, format=format, **options)
    if args.val_fraction:
        table = carve_validation(table, fraction=args.val_fraction, seed=args.seed)
    return table, format
