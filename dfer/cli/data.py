"""``dfer synth`` and ``dfer data stats|check|tim|pack``: synthetic datasets and dataset tools."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dfer.cli.common import add_reader_arguments, read_clips, size


def add_parser(commands) -> None:
    synth = commands.add_parser("synth", help="write a small, learnable synthetic dataset in a release layout")
    synth.add_argument("--format", required=True,
                       choices=("dfew", "ferv39k", "afew", "caer", "mafw", "manifest", "long"),
                       help="long: long videos with expression episodes and 5 annotators, for spotting")
    synth.add_argument("--out", required=True, type=Path, help="output folder")
    synth.add_argument("--clips", type=int, default=100, help="number of clips, or long videos (default 100)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--size", type=int, default=224, help="face-crop size in pixels (default 224)")
    synth.set_defaults(run=run)

    data = commands.add_parser("data", help="look at, check, normalise and pack datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    stats = data_commands.add_parser("stats", help="class, scene/scenario and frame-count distributions")
    add_reader_arguments(stats)
    stats.add_argument("--out", type=Path, help="also write the tables as CSV and a PNG figure here")

    check = data_commands.add_parser("check", help="list every problem of a dataset copy with its path")
    check.add_argument("root", type=Path, help="dataset root or manifest")
    check.add_argument("--format", choices=("dfew", "ferv39k", "afew", "caer", "mafw", "manifest"),
                       help="default: detected")
    check.add_argument("--strict", action="store_true", help="exit with status 1 if anything is wrong")
    check.add_argument("--images", choices=("all", "ends", "none"), default="all",
                       help="frame images to decode: all (default), first and last per clip, or none")
    check.add_argument("--workers", type=int, default=4, help="decoding threads (default 4)")

    tim = data_commands.add_parser("tim", help="TIM-normalise frame folders (like DFEW's clip_224x224_16f)")
    tim.add_argument("src", type=Path, help="folder holding one frame folder per clip")
    tim.add_argument("dst", type=Path, help="output folder; finished clips are skipped on a re-run")
    tim.add_argument("--frames", type=int, default=16, help="frames per clip after TIM (default 16)")
    tim.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")

    pack = data_commands.add_parser("pack", help="write clips as a compact uint8 store the datasets read")
    add_reader_arguments(pack)
    pack.add_argument("--out", required=True, type=Path, help="store folder")
    pack.add_argument("--size", type=size, default=(112, 112), help="face size, e.g. 112 or 224 (default 112)")
    pack.add_argument("--scene-size", type=size, help="also pack scene frames (FERV39k), e.g. 112x168")
    pack.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    data.set_defaults(run=run)


def run(args) -> int:
    if args.command == "synth":
        return _synth(args)
    return {"stats": _stats, "check": _check, "tim": _tim, "pack": _pack}[args.data_command](args)


def _synth(args) -> int:
    from dfer.data.synth import write_synthetic

    started = time.perf_counter()
    summary = write_synthetic(args.out, args.format, args.clips, seed=args.seed, size=args.size)
    print(json.dumps(summary, indent=2, default=str))
    print(f"wrote a synthetic {args.format} dataset to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def _stats(args) -> int:
    from dfer.data.stats import dataset_stats, write_stats

    table, format = read_clips(args)
    stats = dataset_stats(table)
    print(f"{args.root}: {len(table)} clips ({format})")
    for name, frame in stats.items():
        print(f"\n{name}:\n{frame.round(1).to_string()}")
    if args.out:
        written = write_stats(stats, table, args.out, title=str(args.root))
        print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0


def _check(args) -> int:
    from dfer.data.check import check_dataset

    report = check_dataset(args.root, format=args.format, images=args.images, workers=args.workers)
    for problem in report.problems:
        print(f"- {problem}")
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"{report.root} ({report.format}): {report.clips} clips readable, "
          f"{report.images_checked} images decoded, {verdict}")
    return 1 if args.strict and not report.ok else 0


def _tim(args) -> int:
    from dfer.data.normalize import tim_folders

    summary = tim_folders(args.src, args.dst, frames=args.frames, workers=args.workers)
    for failure in summary.failed:
        print(f"- failed: {failure}")
    print(f"TIM to {args.frames} frames: {summary.written} clips written, {summary.skipped} already done, "
          f"{len(summary.failed)} failed → {summary.out}")
    return 1 if summary.failed else 0


def _pack(args) -> int:
    from dfer.data.formats import detect_format
    from dfer.data.packed import pack

    scenes = bool(args.scene_size) and (args.format or detect_format(args.root)) == "ferv39k"
    table, _ = read_clips(args, with_scene=scenes)
    started = time.perf_counter()
    store = pack(table, args.out, size=args.size, scene_size=args.scene_size, workers=args.workers)
    print(f"packed {len(table)} clips at {args.size[0]}x{args.size[1]} into {store} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0
