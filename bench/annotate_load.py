"""Load on `dfer annotate serve`: 50 simulated annotators answering 5,000 clips at once.

The server runs as its own process on 127.0.0.1 (the real command); each annotator is a thread
with its own HTTP client that logs in with its link and answers every task of its set as fast as
the server replies, some answers twice (a retry must not duplicate anything). Printed: answers
per second, latency percentiles, and the same answers stored by direct library calls in one
process (the baseline: the cost of the SQLite transactions alone), with the ratio.

    .venv/bin/python bench/annotate_load.py [--annotators 50] [--answers 5000]
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_project(folder: Path, annotators: int = 50, answers: int = 5000, seed: int = 0):
    """A planned project with ``annotators`` crowd workers holding ``answers`` tasks in all: one
    group of ``answers / annotators`` clips (5% gold) copied once for every annotator; returns
    (database, media, tokens by worker, tasks)."""
    from dfer.curation.annotation import PlanOptions, plan
    from dfer.web.store import issue_tokens

    per_copy = answers // annotators
    gold = max(1, round(0.05 * per_copy))
    items = per_copy - gold
    names = [f"clip_{i:05d}" for i in range(items + 20)]
    clips = pd.DataFrame({"clip_id": names, "path": [f"clips/{n}.mp4" for n in names], "scene": "Talkshow",
                          "gold": [""] * items + ["happy"] * 20})
    workers = pd.DataFrame({"worker_id": [f"a{i:02d}" for i in range(annotators)], "role": "crowd"})
    database = folder / "annotation.sqlite"
    media = folder / "media"
    media.mkdir()
    rng = np.random.default_rng(seed)
    tasks = plan(database, clips, workers, PlanOptions(group_size=per_copy, gold_share=gold / per_copy,
                                                       copies=annotators, seed=int(rng.integers(1 << 30))))
    tokens = {t["worker_id"]: t["token"] for t in issue_tokens(database) if t["worker_id"]}
    return database, media, tokens, tasks


def start_server(database: Path, media: Path) -> tuple[subprocess.Popen, str]:
    """`dfer annotate serve` on a free port of 127.0.0.1; (process, base URL) once it answers."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "dfer.cli", "annotate", "serve", "--db", str(database),
                                "--media", str(media), "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/static/style.css", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def run_load(base: str, tokens: dict[str, str], tasks: pd.DataFrame, words: list[str], repeat_share: float = 0.05,
             seed: int = 0) -> dict:
    """Every annotator at once, each in its own thread; returns the intended answers
    ``{(task, worker): word}``, the HTTP statuses and the latencies (s) of every request."""
    import httpx

    rng = np.random.default_rng(seed)
    plans = {}
    for worker, own in tasks.groupby("worker"):
        chosen = [(task, str(rng.choice(words))) for task in own.task]
        repeats = [chosen[i] for i in rng.choice(len(chosen), max(1, int(repeat_share * len(chosen))), replace=False)]
        plans[worker] = chosen + repeats
    statuses, latencies, lock = [], [], threading.Lock()
    start = threading.Barrier(len(plans))

    def annotator(worker: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get(f"/login/{tokens[worker]}")
            start.wait()
            for task, word in plans[worker]:
                began = time.perf_counter()
                reply = client.put(f"/api/answers/{task}", json={"word": word})
                took = time.perf_counter() - began
                with lock:
                    statuses.append(reply.status_code)
                    latencies.append(took)

    threads = [threading.Thread(target=annotator, args=(worker,)) for worker in plans]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    intended = {(task, worker): word for worker, chosen in plans.items() for task, word in chosen}
    return {"intended": intended, "statuses": statuses, "latencies": np.array(latencies), "seconds": seconds}


def stored_answers(database: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT task_id, worker_id, word FROM answers").fetchall()


def direct_baseline(folder: Path, annotators: int, answers: int, words: list[str]) -> float:
    """Answers per second stored by :func:`dfer.web.store.save_answer` in one process, no HTTP."""
    from dfer.curation.annotation import vocabulary
    from dfer.web.store import Caller, open_store, save_answer

    database, _, _, tasks = make_project(folder, annotators, answers)
    vocabulary_words = vocabulary()
    rng = np.random.default_rng(1)
    began = time.perf_counter()
    with open_store(database) as connection:
        for row in tasks.itertuples():
            save_answer(connection, Caller(row.worker, "crowd"), row.task, str(rng.choice(words)), vocabulary_words)
    return len(tasks) / (time.perf_counter() - began)


def main() -> None:
    from dfer.curation.annotation import vocabulary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--answers", type=int, default=5000)
    args = parser.parse_args()
    words = [w for w, e in vocabulary().items() if e != "PASS"]
    with tempfile.TemporaryDirectory(prefix="dfer-bench-") as tmp:
        database, media, tokens, tasks = make_project(Path(tmp), args.annotators, args.answers)
        server, base = start_server(database, media)
        try:
            result = run_load(base, tokens, tasks, words)
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = stored_answers(database)
        lost = len(result["intended"]) - len(stored)
        (Path(tmp) / "direct").mkdir()
        baseline = direct_baseline(Path(tmp) / "direct", args.annotators, args.answers, words)
    requests = len(result["statuses"])
    rate = len(result["intended"]) / result["seconds"]
    p50, p95, p99 = np.percentile(result["latencies"], [50, 95, 99]) * 1000
    print(f"{args.annotators} annotators, {len(result['intended'])} answers ({requests} requests with retries) "
          f"in {result['seconds']:.1f} s: {rate:.0f} answers/s over HTTP; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {p99:.1f} ms; non-200 replies {sum(s != 200 for s in result['statuses'])}; lost {lost}")
    print(f"direct library calls in one process: {baseline:.0f} answers/s; HTTP / direct = {rate / baseline:.2f}")


if __name__ == "__main__":
    main()
