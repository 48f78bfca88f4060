"""The papers' protocols over single runs: one split, DFEW's 5 folds, FERV39k's cross-scenario matrix.

- ``single``: train on the training clips, select on validation, test once (FERV39k setups, manifests).
- ``dfew_folds``: one run per fold (DFEW's 5 folds; MAFW's follow the same protocol); results per
  fold and both aggregates, named: ``pooled`` (all
  folds' test predictions pooled, as the DFEW paper reports) and ``mean_of_folds`` (later papers).
- ``cross_scenario``: train on each FERV39k scenario in turn and test on every scenario's test clips
  (FERV39k Table 3: rows trained on, columns tested on).

Any protocol can be repeated over seeds (``dfer train CONFIG --seeds 0,1,2``): one run per seed in
``OUT/NAME/seed_S``, and ``OUT/NAME/results/seeds.json`` with the mean ± std of every WAR and UAR.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pandas as pd
import yaml

from dfer import labels
from dfer.data.records import carve_validation
from dfer.engine.config import RunConfig, to_dict
from dfer.engine.data import load_clips
from dfer.engine.distributed import Distributed
from dfer.engine.evaluate import evaluate_split, write_results
from dfer.engine.model_card import write_model_card
from dfer.engine.trainer import Trainer
from dfer.errors import InputError
from dfer.io.atomic import write_json
from dfer.metrics.classification import cross_scenario_matrix, grouped_metrics, pooled_and_mean, seed_summary


def run_dir(config: RunConfig) -> Path:
    return Path(config.out) / config.name


#: Config keys a resumed run may change: where the data is read from and how fast, not what is trained.
RESUMABLE_CHANGES = ("data.root", "data.workers", "train.progress", "train.eval_batch_size")


def run(config: RunConfig, resume: bool = False, force: bool = False, seeds: list[int] | None = None) -> dict:
    """Train and evaluate ``config`` under its protocol; returns the top-level metrics (with
    ``seeds``: the summary over one run per seed).

    An earlier run of the same name is continued with ``resume`` (refused when its settings differ
    beyond :data:`RESUMABLE_CHANGES`), replaced with ``force``, and otherwise refused."""
    dist = Distributed.from_environment()
    try:
        if force and not resume:
            if dist.is_main:
                shutil.rmtree(run_dir(config), ignore_errors=True)
            dist.barrier()
        if seeds:
            return _seeds(config, seeds, resume, dist)
        return _protocol(config, resume, dist)
    finally:
        dist.close()


def _protocol(config: RunConfig, resume: bool, dist: Distributed) -> dict:
    if config.protocol == "dfew_folds":
        return _dfew_folds(config, resume, dist)
    if config.protocol == "cross_scenario":
        return _cross_scenario(config, resume, dist)
    return _train_and_test(config, run_dir(config), load_clips(config.data, config.seed), resume, dist)[0]


def seed_config(config: RunConfig, seed: int) -> RunConfig:
    """``config`` for one seed of a repeated run: ``seed`` set, run folder ``OUT/NAME/seed_S``."""
    repeated = copy.deepcopy(config)
    repeated.seed, repeated.out, repeated.name = seed, str(run_dir(config)), f"seed_{seed}"
    return repeated


def _seeds(config: RunConfig, seeds: list[int], resume: bool, dist: Distributed) -> dict:
    if len(set(seeds)) != len(seeds):
        raise InputError(f"--seeds {seeds}: a seed is given twice")
    runs = {seed: _protocol(seed_config(config, seed), resume, dist) for seed in seeds}
    if not dist.is_main:
        return {}
    summary = seed_summary(runs)
    write_json(run_dir(config) / "results" / "seeds.json", summary)
    shown = [key for key in ("war", "uar", "pooled.war", "pooled.uar", "mean_of_folds.war", "mean_of_folds.uar")
             if key in summary]
    print(f"{len(seeds)} seeds ({', '.join(map(str, seeds))}): " + "; ".join(
        f"{key} {summary[key]['mean']:.2%} ± {summary[key]['std']:.2%}" for key in shown)
        + f" → {run_dir(config) / 'results' / 'seeds.json'}")
    return summary


def claim_run_folder(directory: Path, config: RunConfig, resume: bool) -> None:
    """Refuse to overwrite an earlier run in ``directory``, and to resume it with other settings."""
    record = Path(directory) / "config.yaml"
    if not (record.is_file() or (Path(directory) / "checkpoints" / "last.pt").is_file()):
        return
    if not resume:
        raise InputError(f"{directory} already holds a run; continue it with --resume, replace it with --force, "
                         "or choose another name=…")
    if not record.is_file():
        return
    # a key the record lacks was added to dfer after the run began: it ran with that key's default
    saved = {**_flat(to_dict(RunConfig())), **_flat(yaml.safe_load(record.read_text()) or {})}
    current = _flat(to_dict(config))
    changed = [key for key in sorted(set(saved) | set(current))
               if saved.get(key) != current.get(key) and key not in RESUMABLE_CHANGES]
    if changed:
        shown = "; ".join(f"{key}: {saved.get(key)!r} → {current.get(key)!r}" for key in changed[:5])
        raise InputError(f"{directory} was run with other settings ({shown}); a resumed run may change only "
                         f"{', '.join(RESUMABLE_CHANGES)}. Resume with the run's own settings ({record}), or start "
                         "anew with --force or another name=…")


def _flat(tree: dict, prefix: str = "") -> dict:
    """Nested config sections as dotted keys (``train.epochs``)."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict) and key not in ("options",):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _train_and_test(config: RunConfig, directory: Path, table: pd.DataFrame, resume: bool,
                    dist: Distributed) -> tuple[dict, pd.DataFrame | None]:
    claim_run_folder(directory, config, resume)
    trainer = Trainer(config, directory, table=table, dist=dist)
    if resume and trainer.resume() and dist.is_main:
        print(f"resuming {directory} after epoch {trainer.epoch}")
    result = trainer.fit()
    if not dist.is_main:
        return {}, None
    best = directory / "checkpoints" / "best.pt"
    predictions, raw, clips = evaluate_split(config, table, best, device=dist.device)
    extra = {"run": str(directory), "model": config.model.name, "best_epoch": result.best_epoch,
             f"val_{config.train.select_metric}": result.best_value, "checkpoint": str(best), **clips}
    if trainer.transfer is not None:
        extra["pretrained"] = {key: value for key, value in trainer.transfer.summary(config.model.pretrained).items()
                               if not key.endswith("_tensors")}
    metrics = write_results(predictions, raw, directory / "results", extra)
    write_model_card(directory, config, metrics, list(predictions.attrs.get("classes", labels.EXPRESSIONS)))
    print(f"{directory}: test WAR {metrics['war']:.2%}, UAR {metrics['uar']:.2%} "
          f"(best epoch {result.best_epoch}) → {directory / 'results'}")
    return metrics, predictions


def _dfew_folds(config: RunConfig, resume: bool, dist: Distributed) -> dict:
    if config.data.format not in ("dfew", "mafw"):
        raise InputError(f"protocol dfew_folds needs data.format=dfew or mafw (datasets with 5 folds), "
                         f"not {config.data.format}")
    per_fold, predictions = {}, []
    for fold in config.folds:
        fold_config = copy.deepcopy(config)
        fold_config.data.fold = fold
        directory = run_dir(config) / f"fold_{fold}"
        metrics, fold_predictions = _train_and_test(
            fold_config, directory, load_clips(fold_config.data, config.seed), resume, dist)
        if dist.is_main:
            per_fold[fold] = metrics
            predictions.append(fold_predictions.assign(fold=fold))
    if not dist.is_main:
        return {}
    aggregates = pooled_and_mean([(p["label"].to_numpy(), p["prediction"].to_numpy()) for p in predictions],
                                 len(predictions[0].attrs.get("classes", labels.EXPRESSIONS)))
    summary = {"protocol": "dfew_folds",
               "per_fold": {fold: {"war": m["war"], "uar": m["uar"], "clips": m["clips"]} for fold, m in per_fold.items()},
               "pooled": aggregates["pooled"], "mean_of_folds": aggregates["mean_of_folds"]}
    out = run_dir(config) / "results"
    out.mkdir(parents=True, exist_ok=True)
    pd.concat(predictions).to_csv(out / "predictions_all_folds.csv", index=False)
    write_json(out / "metrics.json", summary)
    print(f"DFEW {len(per_fold)} folds: pooled WAR {aggregates['pooled']['war']:.2%} "
          f"UAR {aggregates['pooled']['uar']:.2%}; mean of folds WAR {aggregates['mean_of_folds']['war']:.2%} "
          f"UAR {aggregates['mean_of_folds']['uar']:.2%} → {out}")
    return summary


def _cross_scenario(config: RunConfig, resume: bool, dist: Distributed) -> dict:
    if config.data.format != "ferv39k":
        raise InputError(f"protocol cross_scenario needs data.format=ferv39k, not {config.data.format}")
    everything = load_clips(config.data, config.seed, validation=False)
    test = everything[everything["split"] == "test"]
    cells = {}
    for scenario in labels.SCENARIOS:  # validation is carved from the training scenario's own clips
        training = carve_validation(everything[(everything["split"] == "train") & (everything["scenario"] == scenario)],
                                    fraction=config.data.val_fraction, seed=config.seed)
        directory = run_dir(config) / f"train_{scenario}"
        _, predictions = _train_and_test(config, directory, pd.concat([training, test]), resume, dist)
        if dist.is_main:
            by_scenario = grouped_metrics(predictions["label"], predictions["prediction"], predictions["scenario"])
            for tested in labels.SCENARIOS:
                if tested in by_scenario.index:
                    cells[(scenario, tested)] = (by_scenario.loc[tested, "war"], by_scenario.loc[tested, "uar"])
    if not dist.is_main:
        return {}
    matrix = cross_scenario_matrix(cells)
    out = run_dir(config) / "results"
    out.mkdir(parents=True, exist_ok=True)
    matrix.to_csv(out / "cross_scenario.csv")
    summary = {"protocol": "cross_scenario", "matrix": {f"{a}->{b}": {"war": w, "uar": u}
                                                        for (a, b), (w, u) in cells.items()}}
    write_json(out / "metrics.json", summary)
    print(f"cross-scenario matrix (rows: trained on, columns: tested on) → {out / 'cross_scenario.csv'}\n"
          f"{matrix.to_string()}")
    return summary
