"""``dfer spot features|train|split|propose|predict|evaluate``: expression spotting in long videos."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(commands) -> None:
    spot = commands.add_parser("spot", help="expression spotting in long videos (SDFE-LV): features, BMN, evaluation")
    spot_steps = spot.add_subparsers(dest="spot_command", required=True, metavar="STEP")
    step = spot_steps.add_parser(
        "train", help="train a proposal localizer (BMN) on snippet features; select on validation AUC; test",
        description="Trains the config's localizer on the train split of its annotations, keeps the epoch "
        "with the best validation AUC (checkpoints/best.pt), then writes the test split's proposals, AR@AN "
        "and AUC (with uniform sliding windows for comparison) into the config's out folder.")
    step.add_argument("config", type=Path, help="YAML (configs/spot/…)")
    step.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="e.g. epochs=20 options.positions=64")
    step.add_argument("--quiet", action="store_true")
    step = spot_steps.add_parser("split", help="subject-independent train/validation/test splits (6:2:2 of the "
                                 "videos, whole subjects per split) in a dfer-long-video annotation file")
    step.add_argument("annotations", type=Path)
    step.add_argument("--out", type=Path, help="write here instead of changing the file")
    step.add_argument("--seed", type=int, default=0)
    step = spot_steps.add_parser("predict", help="expression segments in a long video: preprocess, features, "
                                 "localizer proposals, each segment classified")
    step.add_argument("video", type=Path)
    step.add_argument("--model", required=True, type=Path, help="a localizer checkpoint from dfer spot train")
    step.add_argument("--classifier", type=Path, help="DFER checkpoint that labels the segments (default: the "
                      "localizer's feature extractor)")
    step.add_argument("--top", type=int, default=10, help="segments to keep and classify (default 10)")
    step.add_argument("--out", type=Path, help="output folder (default <video>_spots)")
    step = spot_steps.add_parser("propose", help="a trained localizer's proposals and AR@AN/AUC on a split")
    step.add_argument("--checkpoint", required=True, type=Path)
    step.add_argument("--split", default="test", choices=("train", "validation", "test"))
    step = spot_steps.add_parser(
        "features", help="snippet features of long videos from a trained dfer model (any zoo family)",
        description="Each snippet of --snippet face crops (every --stride frames) goes through the "
        "checkpoint's test sampler and transform; its pooled features (before the classifier) are stored "
        "per video as OUT/<video>.npy (snippets × dim). Finished videos are skipped on a re-run.")
    step.add_argument("faces", type=Path, help="folder of face-crop folders per video (dfer synth --format long: "
                      "ROOT/faces; dfer preprocess: OUT/faces_224, the longest track is used)")
    step.add_argument("--out", required=True, type=Path)
    step.add_argument("--checkpoint", required=True, type=Path, help="a dfer training checkpoint (the extractor)")
    step.add_argument("--snippet", type=int, default=16, help="frames per snippet (default 16, as SDFE-LV)")
    step.add_argument("--stride", type=int, default=16, help="frames between snippet starts (default 16)")
    step.add_argument("--batch", type=int, default=16, help="snippets per forward pass")
    step.add_argument("--scenes", type=Path, help="scene frames per video (two-stream extractors)")
    step.add_argument("--quiet", action="store_true")
    step = spot_steps.add_parser(
        "evaluate", help="AR@AN and AUC exactly as ActivityNet's proposal evaluation, recall by duration, MEGC F1",
        description="Proposals (ActivityNet results JSON) against ground truth (ActivityNet JSON or a "
        "dfer-long-video file's final intervals). Prints AUC and AR at AN = 1, 5, 10, 50, 100 (by AN value), "
        "recall per duration bin (<= 0.5 s, 0.5-4 s, > 4 s) and MEGC-style F1 at frame IoU >= 0.5. Proposals "
        "of videos without ground truth count in the budget but match nothing; a ground-truth video "
        "without proposals has all its segments missed.")
    step.add_argument("--ground-truth", required=True, type=Path)
    step.add_argument("--proposals", required=True, type=Path)
    step.add_argument("--subset", help="only ground-truth videos of this subset/split (e.g. test)")
    step.add_argument("--max-avg", type=float, default=100, help="proposals per video at the end of the curve (100)")
    step.add_argument("--f1-threshold", type=float, default=0.5, help="F1: proposals with at least this score")
    step.add_argument("--f1-iou", type=float, default=0.5, help="F1: frame IoU for a true positive (0.5)")
    step.add_argument("--plot", type=Path, help="write the AR@AN curve as a PNG")
    step.add_argument("--json", action="store_true",
                      help='print only {"auc": …, "AR@1": …, "AR@5": …, "AR@10": …, "AR@50": …, "AR@100": …}')
    spot.set_defaults(run=run)


def run(args) -> int:
    return {"train": _train, "propose": _propose, "split": _split, "predict": _predict, "features": _features,
            "evaluate": _evaluate}[args.spot_command](args)


def _train(args) -> int:
    from dfer.engine.config import build, read_tree
    from dfer.spot.train import SpotConfig, train_localizer

    config = build(SpotConfig, read_tree(args.config, args.overrides), "")
    _print_metrics(train_localizer(config, progress=not args.quiet), config.out)
    return 0


def _propose(args) -> int:
    from dfer.spot.train import evaluate_run

    _print_metrics(evaluate_run(args.checkpoint, args.split), str(Path(args.checkpoint).parents[1]))
    return 0


def _split(args) -> int:
    from dfer.data.long_video import assign_splits

    counts = assign_splits(args.annotations, args.out, args.seed)
    print("subject-independent splits (6:2:2 of the videos, whole subjects per split): " + ", ".join(f"{k} {v} videos" for k, v in counts.items())
          + f" → {args.out or args.annotations}")
    return 0


def _predict(args) -> int:
    from dfer.spot.predict import save, spot_video

    segments, found, facts = spot_video(args.video, args.model, args.classifier, args.top)
    out = args.out or Path(f"{args.video.stem}_spots")
    save(out, segments, found, facts)
    print(f"{args.video}: {facts['frames']} frames, {len(found)} proposals; the {len(segments)} best:")
    for row in segments.itertuples():
        print(f"  {row.rank:3d}. {row.start:7.2f}–{row.end:7.2f} s (frames {row.onset_frame}–{row.offset_frame}) "
              f"score {row.score:.3f}  {row.label} {row.confidence:.2f}")
    print(f"  → {out} (segments.csv, proposals.json, timeline.png, summary.json)")
    return 0


def _features(args) -> int:
    from dfer.spot.features import extract_features

    table = extract_features(args.faces, args.out, args.checkpoint, args.snippet, args.stride, args.batch,
                             scenes_root=args.scenes, progress=not args.quiet)
    print(f"{table.video.nunique()} videos, {len(table)} snippets of {args.snippet} frames every {args.stride} → "
          f"{args.out} (<video>.npy, snippets.csv, features.json)")
    return 0


def _evaluate(args) -> int:
    from dfer.metrics.plots import plot_ar_an
    from dfer.metrics.proposals import evaluate_files

    result = evaluate_files(args.ground_truth, args.proposals, args.subset, args.max_avg, args.f1_threshold,
                            args.f1_iou)
    for note in result.notes():
        print(f"note: {note}", file=sys.stderr)
    scores = result.scores
    summary = scores.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{scores.videos} videos, {scores.ground_truth} ground-truth segments, {scores.proposals} proposals "
          f"({scores.kept} kept at {args.max_avg} per video)")
    print(f"AUC {summary['auc']:.2f}  " + "  ".join(f"{k} {v:.2f}" for k, v in summary.items() if k != "auc"))
    print("recall by duration (SDFE-LV Fig. 6):")
    print(result.by_duration.to_string(index=False, float_format="%.2f"))
    if result.f1 is not None:
        f1 = result.f1
        print(f"MEGC F1 (proposals with score >= {args.f1_threshold}, frame IoU >= {args.f1_iou}): "
              f"F1 {f1['f1']:.4f}, precision {f1['precision']:.4f}, recall {f1['recall']:.4f} "
              f"({f1['true_positives']} of {f1['predictions']} predictions, {f1['ground_truth']} ground truth)")
    else:
        print("MEGC F1: skipped (the ground truth gives no fps to turn times into frames)")
    if args.plot:
        plot_ar_an({Path(args.proposals).stem: scores}, args.plot)
        print(f"AR@AN curve: {args.plot}")
    return 0


def _print_metrics(metrics: dict, out: str) -> None:
    baseline = metrics["sliding_windows"]
    print(f"{metrics['split']}: {metrics['videos']} videos, {metrics['proposals']} proposals (epoch {metrics['epoch']}, "
          f"validation AUC {metrics['validation_auc']:.2f})")
    print(f"  AUC {metrics['auc']:.2f}  " + "  ".join(f"{k} {metrics[k]:.2f}" for k in ("AR@1", "AR@5", "AR@10", "AR@50",
                                                                                       "AR@100")))
    print(f"  uniform sliding windows: AUC {baseline['auc']:.2f} ± {baseline['auc_sd']:.2f}, AR@100 "
          f"{baseline['AR@100']:.2f} (mean of {baseline['orders']} random orders)")
    print(f"  → {out} (proposals_{metrics['split']}.json, metrics_{metrics['split']}.json, ar_an_{metrics['split']}.png)")
