"""Training and running proposal localizers on snippet features (``dfer spot train|propose``).

A spotting config (YAML, :class:`SpotConfig`) names the features folder (``dfer spot features``),
the annotations (a ``dfer-long-video`` file with final intervals and train / validation / test
splits, subject-independent) and the localizer with its options. Each video's features are
rescaled to the localizer's ``positions`` (:func:`dfer.spot.features.rescale`); its final
intervals become segments in [0, 1] of the frames the snippets cover. Training keeps the epoch
with the best validation AUC (AR@AN, :mod:`dfer.metrics.proposals`), writes ``checkpoints/best.pt``
and ``last.pt`` (atomic), ``log.csv`` and ``config.yaml``, then writes the test split's proposals
(``proposals_test.json``, ActivityNet results) and their evaluation (``metrics.json``).

:func:`sliding_windows` gives the uniform baseline: windows of several lengths at 50% overlap,
scored at random; :func:`sliding_window_baseline` reports their AR@AN averaged over
:data:`BASELINE_ORDERS` random orders, since one order's AUC is a lottery (±5 points over 4 videos).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dfer.data.long_video import FINAL, read_long_videos, write_proposals
from dfer.engine import checkpoint
from dfer.errors import DatasetError, InputError
from dfer.io.atomic import atomic_path, write_json, write_table
from dfer.metrics.plots import plot_ar_an
from dfer.metrics.proposals import ProposalScores, average_recall
from dfer.spot.bmn import BMN
from dfer.spot.bsn import BSN
from dfer.spot.features import load_features, rescale
from dfer.spot.rc3d import RC3D
from dfer.spot.turn import TURN

#: Localizers by config name; each takes (feature_dim, **options) and offers targets, loss, propose.
LOCALIZERS = {"bmn": BMN, "bsn": BSN, "turn": TURN, "rc3d": RC3D}


@dataclass(frozen=True)
class SpotConfig:
    """A spotting run (defaults: BMN with its paper's hyperparameters, Lin et al., ICCV 2019)."""

    name: str = "bmn"
    features: str = ""  # folder of dfer spot features
    annotations: str = ""  # dfer-long-video file with final intervals and splits
    localizer: str = "bmn"
    options: dict = field(default_factory=dict)  # the localizer's: BMN(positions, durations, …), BSN(positions, …)
    epochs: int = 9
    step: int = 7  # learning rate × 0.1 after this many epochs
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 4
    top: int = 100  # proposals kept per video after Soft-NMS
    seed: int = 0
    out: str = "runs/spot"


@dataclass
class VideoItem:
    """One video's rescaled features and ground truth."""

    video: str
    features: np.ndarray  # (dim, positions)
    segments: np.ndarray  # (n, 2) in [0, 1] of the covered frames
    covered_frames: int
    fps: float


def load_videos(config: SpotConfig, split: str, positions: int) -> list[VideoItem]:
    """The videos of ``split`` with their features and final intervals."""
    table = read_long_videos(config.annotations)
    videos = table.drop_duplicates("video")
    chosen = videos[videos.split == split]
    if chosen.empty:
        raise DatasetError(config.annotations, f"no videos in split {split!r} (splits: {sorted(set(videos.split))})")
    info_path = Path(config.features) / "features.json"
    if not info_path.is_file():
        raise DatasetError(config.features, "no features.json; run dfer spot features first")
    import json

    stride = int(json.loads(info_path.read_text())["stride"])
    items = []
    for video in chosen.itertuples():
        snippets = load_features(config.features, video.video)
        covered = len(snippets) * stride
        final = table[(table.video == video.video) & (table.annotator == FINAL)]
        segments = np.stack([final.onset / covered, (final.offset + 1) / covered], axis=1).clip(0, 1)
        items.append(VideoItem(video.video, rescale(snippets, positions).T.copy(), segments.reshape(-1, 2),
                               covered, float(video.fps)))
    return items


def build_localizer(config: SpotConfig, feature_dim: int):
    if config.localizer not in LOCALIZERS:
        raise InputError(f"unknown localizer {config.localizer!r}; expected one of {sorted(LOCALIZERS)}")
    return LOCALIZERS[config.localizer](feature_dim, **config.options)


def propose(model, items: list[VideoItem], top: int = 100) -> pd.DataFrame:
    """Proposals (video, t_start, t_end, score, start_frame, end_frame) of every video, in seconds."""
    model.eval()
    rows = []
    with torch.inference_mode():
        for item in items:
            found = model.propose(model(torch.from_numpy(item.features)[None]), 0, top)
            for start, end, score in found:
                first, last = int(round(start * item.covered_frames)), int(round(end * item.covered_frames)) - 1
                rows.append({"video": item.video, "t_start": first / item.fps, "t_end": (last + 1) / item.fps,
                             "score": float(score), "start_frame": first, "end_frame": max(last, first)})
    return pd.DataFrame(rows, columns=["video", "t_start", "t_end", "score", "start_frame", "end_frame"])


def ground_truth(items: list[VideoItem]) -> pd.DataFrame:
    """The items' segments in seconds (for :func:`dfer.metrics.proposals.average_recall`)."""
    rows = [{"video": item.video, "t_start": start * item.covered_frames / item.fps,
             "t_end": end * item.covered_frames / item.fps} for item in items for start, end in item.segments]
    return pd.DataFrame(rows, columns=["video", "t_start", "t_end"])


def sliding_windows(items: list[VideoItem], lengths=(0.5, 1.0, 2.0, 4.0, 8.0), overlap: float = 0.5,
                    seed: int = 0) -> pd.DataFrame:
    """Uniform baseline proposals: windows of each length (seconds) every ``(1 − overlap)`` ×
    length, scored uniformly at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in items:
        duration = item.covered_frames / item.fps
        for length in lengths:
            for start in np.arange(0.0, max(duration - length, 0.0) + 1e-9, length * (1 - overlap)):
                rows.append({"video": item.video, "t_start": float(start), "t_end": float(min(start + length, duration)),
                             "score": float(rng.uniform())})
    return pd.DataFrame(rows, columns=["video", "t_start", "t_end", "score"])


#: Random orders the sliding-window baseline's AR@AN is averaged over.
BASELINE_ORDERS = 20


def sliding_window_baseline(items: list[VideoItem], truth: pd.DataFrame, seed: int = 0,
                            orders: int = BASELINE_ORDERS) -> ProposalScores:
    """AR@AN of :func:`sliding_windows` against ``truth``, averaged over ``orders`` random scorings
    (seeds ``seed`` … ``seed + orders − 1``): what proposals that know nothing of the video reach
    on average. ``extra`` holds the orders and the AUC's standard deviation between them."""
    runs = [average_recall(truth, sliding_windows(items, seed=seed + order)) for order in range(orders)]
    first, aucs = runs[0], [run.auc for run in runs]
    return replace(first, recall=np.mean([run.recall for run in runs], axis=0),
                   average_recall=np.mean([run.average_recall for run in runs], axis=0), auc=float(np.mean(aucs)),
                   extra={"orders": orders, "auc_sd": float(np.std(aucs))})


def train_localizer(config: SpotConfig, progress: bool = True) -> dict:
    """Train on the train split, select on validation AUC, test; returns the test metrics."""
    from tqdm import tqdm

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    out = Path(config.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    positions = int(config.options.get("positions", 100))
    train = load_videos(config, "train", positions)
    validation = load_videos(config, "validation", positions)
    model = build_localizer(config, train[0].features.shape[0])
    labelled = [(torch.from_numpy(item.features), model.targets(item.segments)) for item in train]
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.step, gamma=0.1)
    with atomic_path(out / "config.yaml") as partial:
        import yaml

        partial.write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    import json

    features_info = json.loads((Path(config.features) / "features.json").read_text())  # the extractor, for predict
    log, best = [], -1.0
    started = time.perf_counter()
    for epoch in tqdm(range(1, config.epochs + 1), desc="spot train", unit="epoch", disable=None if progress else True):
        model.train()
        order = torch.randperm(len(labelled), generator=generator).tolist()
        losses = []
        for first in range(0, len(order), config.batch_size):
            batch = [labelled[i] for i in order[first:first + config.batch_size]]
            features = torch.stack([features for features, _ in batch])
            wanted = {key: _collate([goal[key] for _, goal in batch]) for key in batch[0][1]}
            loss = model.loss(model(features), wanted, generator)
            optimizer.zero_grad()
            loss["loss"].backward()
            optimizer.step()
            losses.append({k: float(v.detach()) for k, v in loss.items()})
        schedule.step()
        validation_auc = average_recall(ground_truth(validation), propose(model, validation, config.top)).auc
        record = {"epoch": epoch, **pd.DataFrame(losses).mean().to_dict(), "validation_auc": validation_auc,
                  "seconds": round(time.perf_counter() - started, 2)}
        log.append(record)
        write_table(out / "log.csv", pd.DataFrame(log))
        payload = {"model": model.state_dict(), "config": asdict(config), "feature_dim": train[0].features.shape[0],
                   "features": features_info, "epoch": epoch, "validation_auc": validation_auc}
        last = out / "checkpoints" / "last.pt"
        if validation_auc > best:  # best.pt first, as dfer train: a last.pt of a best epoch has its best.pt
            best = validation_auc
            checkpoint.save(out / "checkpoints" / "best.pt", payload, copies=(last,))
        else:
            checkpoint.save(last, payload)
    return evaluate_run(out / "checkpoints" / "best.pt", "test")


def _collate(parts: list):
    """Stack same-shaped tensors; keep anything else (e.g. each video's segments) as a list."""
    if all(isinstance(p, torch.Tensor) for p in parts) and len({tuple(p.shape) for p in parts}) == 1:
        return torch.stack(parts)
    return parts


def load_localizer(path: str | Path):
    """A trained localizer checkpoint: the model, its config and the payload."""
    from dfer.engine.config import build

    payload = checkpoint.load(Path(path))
    if "feature_dim" not in payload or "config" not in payload:
        raise DatasetError(path, "not a dfer spotting checkpoint (train one with dfer spot train)")
    config = build(SpotConfig, payload["config"], "")
    model = build_localizer(config, int(payload["feature_dim"]))
    model.load_state_dict(payload["model"])
    return model, config, payload


def evaluate_run(path: str | Path, split: str = "test") -> dict:
    """Proposals of ``split`` by a trained localizer, their AR@AN/AUC against the final intervals
    and against uniform sliding windows; written beside the checkpoint's run folder."""
    model, config, payload = load_localizer(path)
    items = load_videos(config, split, model.positions)
    found = propose(model, items, config.top)
    truth = ground_truth(items)
    scores = average_recall(truth, found)
    baseline = sliding_window_baseline(items, truth, seed=config.seed)
    out = Path(config.out)
    write_proposals(out / f"proposals_{split}.json", found)
    plot_ar_an({config.localizer.upper(): scores, "sliding windows": baseline}, out / f"ar_an_{split}.png")
    metrics = {"split": split, "epoch": payload.get("epoch"), "validation_auc": payload.get("validation_auc"),
               **scores.summary(), "sliding_windows": {**baseline.summary(), **baseline.extra}, "videos": len(items),
               "proposals": int(len(found))}
    write_json(out / f"metrics_{split}.json", metrics)
    return metrics
