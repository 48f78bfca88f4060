"""``dfer preprocess``: raw videos → face tracks, aligned face crops, scene frames, per-frame tables."""

from __future__ import annotations

from pathlib import Path

from dfer.cli.common import size, sizes


def add_parser(commands) -> None:
    prep = commands.add_parser(
        "preprocess", help="raw videos → face tracks, aligned face crops, scene frames and a per-frame table",
        description="Decode each video once, detect faces every --detect-every frames and track them in "
        "between (dlib HOG + 68 landmarks, identity by face embedding), align faces to a template and "
        "write crops, scene frames and OUT/tables/<video>.parquet. Finished videos are skipped on a "
        "re-run; failures go to OUT/failures.csv and make the exit status 1.")
    prep.add_argument("inputs", nargs="+", type=Path, help="video files, folders of videos, or manifests "
                      "(CSV/Parquet: path, optional clip_id, scene, label)")
    prep.add_argument("--out", required=True, type=Path, help="output folder")
    prep.add_argument("--layout", choices=("frames", "dfew", "ferv39k"), default="frames",
                      help="frames: plain folders per video and track (default); dfew / ferv39k: the "
                      "release layouts the readers understand (main face only; ferv39k needs a manifest "
                      "with scene and label)")
    prep.add_argument("--rules", choices=("none", "dfew", "sdfe-lv"), default="none",
                      help="paper rules: dfew drops frames without the face and clips with the face in "
                      "< 50%% of frames; sdfe-lv fills lost frames' landmarks from their neighbours")
    prep.add_argument("--drop-faceless-frames", action="store_true", default=None,
                      help="rule (DFEW): frames without the face get no scene frame and no number")
    prep.add_argument("--min-face-fraction", type=float, help="rule (DFEW: 0.5): write nothing for a "
                      "video whose main face shows in fewer frames than this share")
    prep.add_argument("--fill-failed", action="store_true", default=None,
                      help="rule (SDFE-LV): a lost frame's landmarks are the mean of its neighbours'")
    prep.add_argument("--workers", type=int, default=1, help="videos processed in parallel (default 1)")
    prep.add_argument("--backend", choices=("local", "ray"), default="local",
                      help="local process pool (default) or Ray (a connected cluster, else a local one)")
    prep.add_argument("--detector", choices=("hog", "cnn"), default="hog", help="face detector (default hog)")
    prep.add_argument("--detect-every", type=int, default=5, help="frames between detections (default 5; 1 = every frame)")
    prep.add_argument("--detect-size", type=int, default=720, help="detect on frames shrunk to this shorter side "
                      "(px; default 720, so videos up to 720p are detected at full size; 0: always full size)")
    prep.add_argument("--detect-width", type=int, default=0,
                      help="also shrink the detector's frames to at most this width (default: no limit)")
    prep.add_argument("--upsample", type=int, default=0, help="detector upsampling for small faces (default 0)")
    prep.add_argument("--face-sizes", type=sizes(int), default=[224, 112],
                      help="face crop sizes, first is the main one (default 224,112)")
    prep.add_argument("--scene-sizes", type=sizes(size), default=[(336, 504), (112, 168)],
                      help="scene frame sizes HxW (default 336x504,112x168; empty for none)")
    prep.add_argument("--quiet", action="store_true", help="no progress bar")
    prep.set_defaults(run=run)


def run(args) -> int:
    from dfer.preprocess import options_from, preprocess

    detector_options = {"upsample": args.upsample}
    if args.detect_width:
        detector_options["max_width"] = args.detect_width
    rules = {name: value for name, value in (("drop_faceless_frames", args.drop_faceless_frames),
                                             ("min_face_fraction", args.min_face_fraction),
                                             ("fill_failed", args.fill_failed)) if value is not None}
    tracker = {"detect_every": args.detect_every, "detect_size": args.detect_size}
    options = options_from(args.layout, args.rules, tracker, detector=args.detector,
                           detector_options=detector_options, face_sizes=tuple(args.face_sizes),
                           scene_sizes=tuple(args.scene_sizes), **rules)
    summary = preprocess(args.inputs, args.out, options, workers=args.workers, backend=args.backend,
                         progress=not args.quiet)
    print(summary)
    return 1 if summary.failed else 0
