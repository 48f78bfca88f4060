"""Training of one run: epochs, validation-based model selection, checkpoints, resume.

A run folder holds ``config.yaml``, ``log.csv`` (one row per epoch), ``tensorboard/``,
``checkpoints/last.pt`` (every epoch) and ``best.pt`` (best validation metric), and ``results/``
(written by :mod:`dfer.engine.evaluate` for the test split, with the best checkpoint). The test
split is never looked at before training ends.
"""

from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from tqdm import tqdm

from dfer import __version__, labels
from dfer.engine import checkpoint
from dfer.engine.config import ConfigError, RunConfig, to_dict
from dfer.engine.data import load_clips, make_dataset, make_loader
from dfer.engine.distributed import Distributed
from dfer.data.targets import balanced_class_weights, class_counts
from dfer.engine.inference import forward, load_weights, model_from_config, move, predict
from dfer.engine.pretrained import Transfer, load_pretrained
from dfer.errors import TrainingError
from dfer.io.atomic import atomic_path, write_json, write_table
from dfer.metrics.classification import uar, war
from dfer.models.losses import DFERLoss

LOG_COLUMNS = ("epoch", "lr", "train_loss", "train_war", "val_loss", "val_war", "val_uar", "unreadable_frames", "seconds")


class NonFiniteLoss(TrainingError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    run_dir: Path
    best_epoch: int
    best_value: float
    epochs_run: int


def build_from_config(config: RunConfig, class_counts: np.ndarray | None = None, gather=None,
                      num_classes: int = labels.NUM_CLASSES) -> tuple[torch.nn.Module, DFERLoss, Transfer | None]:
    """The configured model of ``num_classes`` classes (with the user's initial or pretrained
    weights, if any), its loss (class weights from the training clips' ``class_counts``; ``gather``
    see :class:`DFERLoss`) and what pretrained weights were loaded (None without ``model.pretrained``)."""
    model = model_from_config(config.model, num_classes)
    transfer = None
    if config.model.pretrained:
        transfer = load_pretrained(model, config.model.pretrained, progress=config.train.progress)
    if config.model.checkpoint:
        load_weights(model, config.model.checkpoint, config.model.name, num_classes=num_classes)
    weights = None
    if config.loss.class_weights == "balanced":
        if class_counts is None:
            raise ConfigError("loss.class_weights=balanced needs the training clips' class counts")
        weights = torch.from_numpy(balanced_class_weights(class_counts)).float()
    try:
        loss = DFERLoss(kind=config.loss.kind, lam=config.loss.lam, num_classes=num_classes,
                        feature_dim=model.feature_dim, label_smoothing=config.loss.label_smoothing,
                        center_alpha=config.loss.center_alpha, class_weights=weights, gather=gather)
    except ValueError as error:
        raise ConfigError(f"loss: {error}") from None
    return model, loss, transfer


def freeze(model: torch.nn.Module, prefixes: list[str]) -> list[torch.nn.Module]:
    """Stop training the parameters under the module ``prefixes`` (``train.freeze``); returns the
    frozen modules, to be kept in eval mode (their batch-norm statistics frozen too)."""
    modules = dict(model.named_modules())
    frozen = []
    for prefix in prefixes:
        prefix = prefix.rstrip(".")
        if prefix not in modules or not prefix:
            top = ", ".join(name for name, _ in model.named_children())
            raise ConfigError(f"train.freeze: {type(model).__name__} has no module {prefix!r} (its top-level "
                              f"modules: {top}; nested ones by dotted name, e.g. backbone.layer1)")
        frozen.append(modules[prefix])
        modules[prefix].requires_grad_(False)
    return frozen


def make_optimizer(config: RunConfig, model: torch.nn.Module, backbone: set[str] = frozenset()) -> torch.optim.Optimizer:
    """The configured optimizer over the model's trainable parameters; those named in ``backbone``
    (the pretrained ones) train at ``optim.backbone_lr_mult`` times the rate."""
    optim = config.optim
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not trainable:
        raise ConfigError("every parameter is frozen (train.freeze): nothing would train")
    new = [p for name, p in trainable if name not in backbone]
    pretrained = [p for name, p in trainable if name in backbone]
    multiplier = optim.backbone_lr_mult if pretrained else 1.0
    groups = [{"params": params, "weight_decay": optim.weight_decay, "lr": optim.lr * mult}
              for params, mult in ((new, 1.0), (pretrained, multiplier)) if params]
    if optim.name == "sgd":
        return torch.optim.SGD(groups, lr=optim.lr, momentum=optim.momentum)
    if optim.name == "adam":
        return torch.optim.Adam(groups, lr=optim.lr)
    return torch.optim.AdamW(groups, lr=optim.lr)


def make_scheduler(config: RunConfig, optimizer: torch.optim.Optimizer):
    """Per-epoch schedule: FERV39k ×0.95 per epoch, DFEW ÷10 on plateau, CEFLNet cosine with warm-up."""
    schedule, epochs = config.schedule, config.train.epochs
    if schedule.name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=schedule.gamma)
    if schedule.name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=schedule.factor,
                                                          patience=schedule.patience, min_lr=schedule.min_lr)
    if schedule.name == "cosine":
        warmup, floor = schedule.warmup_epochs, schedule.min_lr / config.optim.lr

        def factor(epoch: int) -> float:
            if epoch < warmup:
                return (epoch + 1) / (warmup + 1)
            progress = (epoch - warmup) / max(1, epochs - warmup)
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


def configure_determinism(config: RunConfig) -> None:
    torch.manual_seed(config.seed)
    np.random.seed(config.seed % 2**32)
    if config.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


class Trainer:
    """Trains one configured run, resuming from ``checkpoints/last.pt`` when asked."""

    def __init__(self, config: RunConfig, run_dir: Path, table: pd.DataFrame | None = None,
                 dist: Distributed | None = None):
        self.config = config
        self.run_dir = Path(run_dir)
        self.dist = dist or Distributed.from_environment()
        self.device = self.dist.device
        configure_determinism(config)
        self.table = table if table is not None else load_clips(config.data, config.seed)
        self.classes = tuple(self.table.attrs.get("classes", labels.EXPRESSIONS))  # what the labels index
        train_rows = self.table[self.table["split"] == "train"]
        self.model, self.loss, self.transfer = build_from_config(
            config, class_counts(train_rows["label"], len(self.classes)), gather=self.dist.gather_batch,
            num_classes=len(self.classes))
        self.frozen = freeze(self.model, config.train.freeze)
        self.model.to(self.device)
        self.loss.to(self.device)
        self.parallel_model = self.dist.wrap(self.model)
        pretrained = set(self.transfer.loaded) if self.transfer else set()
        self.optimizer = make_optimizer(config, self.model, pretrained)
        self.scheduler = make_scheduler(config, self.optimizer)
        self.amp = config.train.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.train_set = make_dataset(train_rows, config.data, train=True, seed=config.seed,
                                      soft_targets=config.loss.soft_targets, num_classes=len(self.classes))
        self.train_loader, self.train_sampler = make_loader(
            self.train_set, config.train.batch_size, shuffle=True, seed=config.seed,
            workers=config.data.workers, rank=self.dist.rank, world=self.dist.world,
            balanced=config.train.sampler == "class_balanced")
        val_rows = self.table[self.table["split"] == "val"]
        self.val_loader, _ = make_loader(
            make_dataset(val_rows, config.data, train=False, seed=config.seed),
            config.train.eval_batch_size or config.train.batch_size, shuffle=False, seed=config.seed,
            workers=config.data.workers)
        self.epoch = 0
        self.best = {"epoch": 0, "value": -1.0, "metric": config.train.select_metric}
        self.history: list[dict] = []

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    def resume(self) -> bool:
        """Continue from ``checkpoints/last.pt`` if it exists; True if it did."""
        path = self.checkpoints / "last.pt"
        if not path.is_file():
            return False
        state = load_weights(self.model, path, self.config.model.name, num_classes=len(self.classes))
        try:
            self.optimizer.load_state_dict(state["optimizer"])
        except ValueError as error:  # e.g. a run of dfer < 0.2, whose center-loss centres were optimised
            raise TrainingError(f"{path}: its optimizer state does not fit this run's parameters ({error}); "
                                "start the run anew with --force") from None
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.loss.load_state_dict(state["loss"])
        self.epoch, self.best, self.history = state["epoch"], state["best"], state["history"]
        checkpoint.set_rng_state(state["rng"])
        return True

    def fit(self) -> TrainResult:
        """Train until ``train.epochs``; keep ``last.pt`` every epoch and ``best.pt`` on validation."""
        config = self.config
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if not (self.run_dir / "config.yaml").is_file():  # a resumed run keeps the record of how it began
                with atomic_path(self.run_dir / "config.yaml") as partial:
                    partial.write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
            self._write_splits()
            if self.transfer is not None:
                write_json(self.run_dir / "pretrained.json", self.transfer.summary(config.model.pretrained))
                print(f"pretrained {config.model.pretrained}: {len(self.transfer.loaded)} tensors loaded, "
                      f"{len(self.transfer.skipped)} in the file skipped, {len(self.transfer.missing)} of the model "
                      f"new (see {self.run_dir / 'pretrained.json'})", flush=True)
        writer = self._tensorboard()
        start_epoch = self.epoch
        for epoch in range(start_epoch, config.train.epochs):
            started = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]  # the rate this epoch trains with
            train_stats = self._train_epoch(epoch)
            val = predict(self.model, self.val_loader, self.device, self.amp) if self.dist.is_main else None
            metrics = self.dist.broadcast(self._val_metrics(val))
            self._step_scheduler(metrics[config.train.select_metric])
            self.epoch = epoch + 1
            row = {"epoch": self.epoch, "lr": lr, **train_stats,
                   "val_loss": metrics["loss"], "val_war": metrics["war"], "val_uar": metrics["uar"],
                   "seconds": round(time.perf_counter() - started, 3)}
            self.history.append(row)
            improved = metrics[config.train.select_metric] > self.best["value"]
            if improved:
                self.best = {"epoch": self.epoch, "value": metrics[config.train.select_metric],
                             "metric": config.train.select_metric}
            if self.dist.is_main:
                self._save(improved)
                self._log(row, writer)
                print(f"epoch {self.epoch}/{config.train.epochs}: loss {row['train_loss']:.4f}, "
                      f"val WAR {row['val_war']:.2%} UAR {row['val_uar']:.2%} "
                      f"(best {self.best['value']:.2%} @ {self.best['epoch']}), {row['seconds']:.1f} s", flush=True)
        if writer is not None:
            writer.close()
        self.dist.barrier()
        return TrainResult(self.run_dir, self.best["epoch"], self.best["value"], self.epoch - start_epoch)

    def _train_epoch(self, epoch: int) -> dict:
        self.model.train()
        for module in self.frozen:
            module.eval()
        self.loss.train()
        self.train_sampler.set_epoch(epoch)
        self.train_set.set_epoch(epoch)
        limit = self.config.train.max_steps_per_epoch or len(self.train_loader)
        total_loss, correct, seen, unreadable = 0.0, 0, 0, 0
        bar = tqdm(self.train_loader, total=min(limit, len(self.train_loader)), unit="batch",
                   desc=f"epoch {epoch + 1}/{self.config.train.epochs}", leave=False,
                   disable=None if self.config.train.progress and self.dist.is_main else True)
        for step, batch in enumerate(bar):
            if step >= limit:
                break
            batch = move(batch, self.device)
            with torch.autocast(self.device.type, enabled=self.amp):
                outputs = forward(self.parallel_model, batch)
                losses = self.loss(outputs, batch["label"], batch.get("target"))
            loss = losses["loss"]
            if not torch.isfinite(loss):
                raise NonFiniteLoss(f"loss became {loss.item()} at epoch {epoch + 1}, step {step + 1}; "
                                    f"the last good checkpoint is {self.checkpoints / 'last.pt'}")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if self.config.train.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            size = batch["label"].shape[0]
            total_loss += loss.item() * size
            correct += (outputs["logits"].argmax(dim=1) == batch["label"]).sum().item()
            seen += size
            unreadable += int(batch["unreadable_frames"].sum())
            bar.set_postfix(loss=f"{total_loss / seen:.4f}")
        totals = self.dist.all_reduce_sum([total_loss, correct, seen, unreadable])
        return {"train_loss": totals[0] / max(totals[2], 1), "train_war": totals[1] / max(totals[2], 1),
                "unreadable_frames": int(totals[3])}

    def _val_metrics(self, val: dict | None) -> dict:
        if val is None:
            return {}
        probabilities = torch.from_numpy(val["probabilities"]).clamp_min(1e-12)
        loss = torch.nn.functional.nll_loss(probabilities.log(), torch.from_numpy(val["label"])).item()
        return {"loss": loss, "war": war(val["label"], val["prediction"]),
                "uar": uar(val["label"], val["prediction"], len(self.classes))}

    def _step_scheduler(self, value: float) -> None:
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def _save(self, improved: bool) -> None:
        payload = {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "loss": self.loss.state_dict(), "epoch": self.epoch, "best": self.best, "history": self.history,
            "rng": checkpoint.rng_state(), "config": to_dict(self.config), "model_name": self.config.model.name,
            "num_classes": len(self.classes), "classes": list(self.classes), "dfer_version": __version__,
        }
        last = self.checkpoints / "last.pt"
        if improved:  # best.pt first: a last.pt that records a best epoch always has its best.pt
            checkpoint.save(self.checkpoints / "best.pt", payload, copies=(last,))
        else:
            checkpoint.save(last, payload)

    def _log(self, row: dict, writer) -> None:
        with atomic_path(self.run_dir / "log.csv") as partial, open(partial, "w", newline="") as handle:
            log = csv.DictWriter(handle, fieldnames=LOG_COLUMNS, extrasaction="ignore")
            log.writeheader()
            log.writerows(self.history)  # rewritten whole: a resumed run keeps one row per epoch
        if writer is not None:
            for key, value in row.items():
                if key != "epoch":
                    writer.add_scalar(key, value, row["epoch"])

    def _tensorboard(self):
        if not self.dist.is_main:
            return None
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(self.run_dir / "tensorboard"))

    def _write_splits(self) -> None:
        """Which clip is in which split (the validation carve included), for the run's record."""
        splits = self.table[["clip_id", "split", "label"]].assign(
            expression=[self.classes[i] for i in self.table["label"]])
        write_table(self.run_dir / "splits.csv", splits)
