"""Training-step time and peak memory per model family at the papers' input sizes, and the data
loader's share of a training step.

Part 1 runs, for one model per family, forward + backward + an SGD step on random clips of the
model's paper input (``dfer models list``), each model in its own process so peak memory is its
own (CUDA: ``max_memory_allocated``; CPU: peak resident memory of the process). Part 2 trains
resnet18_lstm (8 × 112² faces) on a synthetic FERV39k copy and splits each step into waiting for
the loader and computing, from JPEG folders and from the packed store.

    python bench/train_step.py [--batch 2] [--steps 3] [--models resnet18 c3d …]

Timings only; nothing is asserted. On this CPU machine use a small batch; on a GPU use the
papers' (32 for FERV39k rows, 24 for DFEW, 8 for CEFLNet).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import torch

FAMILY_MODELS = ("resnet18", "resnet18_lstm", "c3d", "r3d_18", "two_resnet18_lstm", "ceflnet")


def step_figures(name: str, batch: int, steps: int, device: str) -> dict:
    """Seconds per training step and peak memory (MiB) of model ``name`` at its paper input."""
    from dfer.models.zoo import MODELS, build_model

    torch.manual_seed(0)
    model = build_model(name).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    inputs = {key: torch.randn(batch, *shape, device=device) for key, shape in MODELS[name].paper_input.items()}
    labels = torch.randint(0, 7, (batch,), device=device)

    def step():
        outputs = model(inputs["video"], inputs.get("scene"))
        loss = torch.nn.functional.cross_entropy(outputs["logits"], labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    return {"seconds": (time.perf_counter() - started) / steps, "peak_mib": peak,
            "input": {k: list(v) for k, v in MODELS[name].paper_input.items()}}


def _worker(args, queue):
    queue.put(step_figures(*args))


def isolated(name: str, batch: int, steps: int, device: str) -> dict:
    """:func:`step_figures` in a fresh process, so the peak memory is this model's alone."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_worker, args=((name, batch, steps, device), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def loader_share(clips: int, batch: int, steps: int, workers: int) -> list[tuple[str, float, float]]:
    """(source, seconds waiting for batches per step, seconds computing per step) over a short run."""
    from dfer.data.packed import open_store, pack
    from dfer.data.synth import write_synthetic
    from dfer.engine.config import load_config
    from dfer.engine.data import load_clips, make_dataset, make_loader
    from dfer.engine.inference import forward
    from dfer.engine.trainer import build_from_config

    rows = []
    with tempfile.TemporaryDirectory(prefix="dfer-bench-") as tmp:
        root = Path(tmp) / "ferv39k"
        write_synthetic(root, "ferv39k", clips, seed=0, size=224, progress=False)
        config = load_config(None, [f"data.root={root}", "model.name=resnet18_lstm", f"data.workers={workers}"])
        table = load_clips(config.data, seed=0)
        train = table[table["split"] == "train"]
        store = pack(train, Path(tmp) / "store", size=112, progress=False)
        model, loss, _ = build_from_config(config)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        for source, rows_table in (("JPEG folders", train), ("packed store", open_store(store))):
            dataset = make_dataset(rows_table, config.data, train=True, seed=0)
            loader, _ = make_loader(dataset, batch, shuffle=True, seed=0, workers=workers)
            waiting = computing = 0.0
            iterator = iter(loader)
            for _ in range(steps):
                started = time.perf_counter()
                batch_data = next(iterator)
                fetched = time.perf_counter()
                losses = loss(forward(model, batch_data), batch_data["label"])
                optimizer.zero_grad()
                losses["loss"].backward()
                optimizer.step()
                waiting += fetched - started
                computing += time.perf_counter() - fetched
            rows.append((source, waiting / steps, computing / steps))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=2, help="clips per step (default 2 for CPU)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per model (default 3)")
    parser.add_argument("--models", nargs="*", default=list(FAMILY_MODELS))
    parser.add_argument("--clips", type=int, default=120, help="synthetic clips for the loader share")
    parser.add_argument("--workers", type=int, default=2, help="loader workers for the loader share")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    print(f"training step, batch {args.batch}, {device} ({torch.get_num_threads()} threads):")
    print(f"  {'model':20s} {'s/step':>8s} {'clips/s':>8s} {'peak MiB':>9s}  paper input")
    for name in args.models:
        figures = isolated(name, args.batch, args.steps, device)
        shapes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in figures["input"].items())
        print(f"  {name:20s} {figures['seconds']:8.2f} {args.batch / figures['seconds']:8.2f} "
              f"{figures['peak_mib']:9.0f}  {shapes}", flush=True)

    print(f"\nloader share of a resnet18_lstm step (8 x 112², batch 8, {args.workers} workers):")
    for source, waiting, computing in loader_share(args.clips, 8, 6, args.workers):
        print(f"  {source:13s} waiting {waiting:6.3f} s, computing {computing:6.3f} s per step "
              f"→ loader share {waiting / (waiting + computing):5.1%}")


if __name__ == "__main__":
    main()
