"""``dfer train``, ``dfer evaluate``, ``dfer checkpoint upgrade`` and ``dfer models list|info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dfer.errors import InputError


def add_parser(commands) -> None:
    train = commands.add_parser("train", help="train a model as a config (configs/…) describes, then test it")
    train.add_argument("config", type=Path, help="YAML config (one per paper table row under configs/)")
    train.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                       help="override any config key, e.g. train.epochs=5 data.root=/data/DFEW")
    train.add_argument("--resume", action="store_true", help="continue from the run's checkpoints/last.pt (its settings "
                       "may change only in data.root, data.workers, train.progress, train.eval_batch_size)")
    train.add_argument("--force", action="store_true", help="replace an earlier run of the same name (deleted first); "
                       "without it, or --resume, such a run is refused")
    train.add_argument("--folds", help="the 5-fold protocol (DFEW, MAFW) over these folds, e.g. 1-5 or 1,3")
    train.add_argument("--seeds", help="one run per seed, e.g. 0,1,2 (in OUT/NAME/seed_S), then the mean ± std of "
                       "WAR and UAR in OUT/NAME/results/seeds.json")
    train.set_defaults(run=run)

    evaluate = commands.add_parser("evaluate", help="evaluate a checkpoint on a split of the config's dataset")
    evaluate.add_argument("config", type=Path, help="YAML config the checkpoint was trained with")
    evaluate.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    evaluate.add_argument("--checkpoint", required=True, type=Path, help="checkpoint (.pt) to evaluate")
    evaluate.add_argument("--split", choices=("test", "val", "train"), default="test")
    evaluate.add_argument("--out", type=Path, help="results folder (default RUN/evaluate_SPLIT)")
    evaluate.set_defaults(run=run)

    saved = commands.add_parser("checkpoint", help="checkpoint files: convert a trusted old one to the safe format")
    saved_commands = saved.add_subparsers(dest="checkpoint_command", required=True, metavar="SUBCOMMAND")
    upgrade = saved_commands.add_parser(
        "upgrade", help="rewrite a checkpoint you trust so that dfer can load it safely",
        description="dfer loads checkpoints with torch.load(weights_only=True): tensors and plain data only, so "
        "a file cannot run code when loaded. A checkpoint of an older dfer (its NumPy random state was an array) "
        "or any file holding other Python objects is refused. This command unpickles OLD in full, which runs "
        "any code inside it, so use it only on files you made or trust; NEW is checked to load safely.")
    upgrade.add_argument("old", type=Path, help="the trusted checkpoint")
    upgrade.add_argument("new", type=Path, help="where to write the safe copy (must not exist)")
    saved.set_defaults(run=run)

    models = commands.add_parser("models", help="the model zoo: names, parameters and MACs")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="SUBCOMMAND")
    model_commands.add_parser("list", help="every model with parameters and MACs at its paper input")
    info = model_commands.add_parser("info", help="one model's parameters and MACs")
    info.add_argument("name")
    info.add_argument("--json", action="store_true", help='print {"name", "params", "macs", "input"}')
    models.set_defaults(run=run)


def run(args) -> int:
    return {"train": _train, "evaluate": _evaluate, "models": _models, "checkpoint": _checkpoint}[args.command](args)


def _checkpoint(args) -> int:
    from dfer.engine import checkpoint

    print(f"{args.old} → {checkpoint.upgrade(args.old, args.new)} (loads safely, weights_only)")
    return 0


def _train(args) -> int:
    from dfer.engine.config import load_config
    from dfer.engine.protocols import run as run_protocol
    from dfer.errors import InputError

    overrides = list(args.overrides)
    if args.folds:
        overrides += ["protocol=dfew_folds", f"folds={_folds(args.folds)}"]
    if args.force and args.resume:
        raise InputError("--force replaces an earlier run and --resume continues it: give one of them")
    run_protocol(load_config(args.config, overrides), resume=args.resume, force=args.force,
                 seeds=_seeds(args.seeds) if args.seeds else None)
    return 0


def _seeds(text: str) -> list[int]:
    """``0,1,2`` → [0, 1, 2]; ``0-4`` → [0, 1, 2, 3, 4]."""
    chosen = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not (low.isdigit() and (not high or high.isdigit())):
            raise InputError(f"--seeds {text!r}: expected seeds like 0,1,2 or 0-4")
        chosen += list(range(int(low), int(high or low) + 1))
    return chosen


def _folds(text: str) -> list[int]:
    """``1-5`` → [1, 2, 3, 4, 5]; ``1,3`` → [1, 3] (DFEW folds)."""
    chosen = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if not (low.strip().isdigit() and (not high or high.strip().isdigit())):
            raise InputError(f"--folds {text!r}: expected folds like 1-5 or 1,3")
        chosen += list(range(int(low), int(high or low) + 1))
    if not chosen or not set(chosen) <= {1, 2, 3, 4, 5}:
        raise InputError(f"--folds {text!r}: DFEW folds are 1 to 5")
    return chosen


def _evaluate(args) -> int:
    from dfer.engine.config import load_config
    from dfer.engine.data import load_clips
    from dfer.engine.evaluate import evaluate_split, write_results
    from dfer.engine.inference import trained_config

    config = load_config(args.config, args.overrides)
    trained = trained_config(args.checkpoint)
    for key in ("size", "scene_size", "sampler"):
        if trained is not None and getattr(trained.data, key) != getattr(config.data, key):
            print(f"dfer: warning: the checkpoint was trained with data.{key} {getattr(trained.data, key)}, this "
                  f"evaluation uses {getattr(config.data, key)}", file=sys.stderr)
    table = load_clips(config.data, config.seed)
    predictions, raw, clips = evaluate_split(config, table, args.checkpoint, split=args.split)
    out = args.out or Path(config.out) / config.name / f"evaluate_{args.split}"
    metrics = write_results(predictions, raw, out, {"model": config.model.name, "checkpoint": str(args.checkpoint),
                                                    "split": args.split, **clips})
    single = (f" ({clips['eval_clips']} clips averaged; single clip WAR {clips['single_clip']['war']:.2%}, "
              f"UAR {clips['single_clip']['uar']:.2%})") if clips else ""
    print(f"{args.split}: {metrics['clips']} clips, WAR {metrics['war']:.2%}, UAR {metrics['uar']:.2%}{single} → {out}")
    return 0


def _models(args) -> int:
    from dfer.models.zoo import MODELS, complexity

    if args.models_command == "info":
        info = complexity(args.name)
        if args.json:
            print(json.dumps(info))
        else:
            spec = MODELS[args.name]
            weights = ", ".join(info["torchvision_weights"]) or "none (a local state dict or dfer checkpoint only)"
            print(f"{info['name']} ({spec.family}): {spec.description}\n  params {info['params']:,}\n"
                  f"  MACs {info['macs'] / 1e9:.2f} G at {info['input']}\n  pretrained weights (model.pretrained): {weights}")
        return 0
    print(f"{'model':22s} {'family':11s} {'params (M)':>10s} {'MACs (G)':>9s}  input")
    for name, spec in MODELS.items():
        info = complexity(name)
        shapes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in info["input"].items())
        print(f"{name:22s} {spec.family:11s} {info['params'] / 1e6:10.2f} {info['macs'] / 1e9:9.2f}  {shapes}",
              flush=True)
    return 0


def synthetic_demo(args) -> int:
    """``dfer demo --synthetic``: synthesise DFEW- and FERV39k-layout datasets, check and describe
    them, then train a small model on the FERV39k copy and print its test report."""
    import pandas as pd

    from dfer.data.check import check_dataset
    from dfer.data.formats import read_dataset
    from dfer.data.stats import dataset_stats, write_stats
    from dfer.data.synth import write_synthetic
    from dfer.engine.config import load_config
    from dfer.engine.protocols import run as run_protocol

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
    metrics = run_protocol(config, force=True)  # the demo's own run, made anew with its data
    results = Path(metrics["run"]) / "results"
    print(f"\ntest: {metrics['clips']} clips, WAR {metrics['war']:.2%}, UAR {metrics['uar']:.2%}")
    print("recall per expression: " + ", ".join(f"{k} {v:.0%}" for k, v in metrics["recall"].items() if v is not None))
    print(f"per scenario:\n{pd.read_csv(results / 'per_scenario.csv', index_col=0).round(3).to_string()}")
    print(f"\nreport: {results} (metrics.json, predictions.csv, confusion.png, per_scene.csv, tsne.png)")
    return 0
