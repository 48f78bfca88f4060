"""One function over many jobs, in a pool of worker processes or as Ray tasks.

``dfer preprocess`` and ``dfer predict`` run their per-video function this way. The function must
be importable (a module-level function) and turn any failure of its own into a record rather than
raise, so one bad video never ends the run; the runner yields ``(job, record)`` as jobs finish.

- ``local``: a process pool of ``workers`` processes, started with *spawn*, so no worker inherits
  the parent's threads or loaded models (onnxruntime and PyTorch are not safe across ``fork``). Each
  worker holds one job at a time. A worker that dies (killed, out of memory) breaks the pool: the
  jobs that were running then run again, each alone, and one that kills its worker again gets a
  :class:`WorkerDied` record; the rest go on in a new pool. Workers end within a second of the
  parent process.
- ``ray``: the same function as Ray tasks (one CPU each), on a connected cluster if there is one
  (``ray.init(address=...)`` or ``RAY_ADDRESS``), else on a local one of ``workers`` CPUs.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from typing import Callable, Iterable, Iterator

from dfer.errors import InputError

BACKENDS = ("local", "ray")


class WorkerDied(RuntimeError):
    """The worker process running a job died twice (killed, or out of memory)."""


def run_jobs(attempt: Callable, jobs: Iterable, args: tuple = (), workers: int = 2, backend: str = "local"
             ) -> Iterator[tuple[object, object]]:
    """``attempt(job, *args)`` for every job, yielded as ``(job, record)`` in the order they finish
    (see the module docstring). A job whose worker died twice gets a :class:`WorkerDied` instance
    as its record."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    jobs = list(jobs)
    runner = _pool if backend == "local" else _ray
    yield from runner(attempt, jobs, args, workers)


def _pool(attempt, jobs, args, workers):
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    queue, suspects = deque(jobs), deque()

    def pool(size):
        return ProcessPoolExecutor(size, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),))

    while queue or suspects:
        if suspects:  # a job that was running when a worker died runs again alone: a second death is its own
            job = suspects.popleft()
            with pool(1) as alone:
                try:
                    yield job, alone.submit(attempt, job, *args).result()
                except BrokenProcessPool:
                    yield job, WorkerDied("the worker process died twice while running this job "
                                          "(killed, or out of memory)")
            continue
        with pool(max(workers, 1)) as shared:
            running: dict = {}  # at most one job per worker, so a death leaves only these as suspects
            while queue or running:
                while queue and len(running) < max(workers, 1):
                    job = queue.popleft()
                    running[shared.submit(attempt, job, *args)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                if any(isinstance(future.exception(), BrokenProcessPool) for future in done):
                    wait(running)  # the pool is broken: every running job ends now, finished or not
                for future in [future for future in running if future.done()]:
                    job = running.pop(future)
                    if isinstance(future.exception(), BrokenProcessPool):
                        suspects.append(job)
                    else:
                        yield job, future.result()
                if suspects:
                    break


def _die_with_parent(parent: int) -> None:
    """In each worker: end within a second of the parent process (a killed run left its workers
    waiting for work forever). A watch on the parent's pid works wherever os.getppid does; Linux's
    parent-death signal is not used, as it fires when the creating thread ends, not the process."""

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _ray(attempt, jobs, args, workers):
    try:
        import ray
    except ImportError:
        raise InputError("the ray backend needs Ray: pip install 'dfer[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=workers if workers > 0 else None, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(attempt)
    pending = {remote.remote(job, *args): job for job in jobs}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            try:
                record = ray.get(ready[0])
            except ray.exceptions.WorkerCrashedError:
                record = WorkerDied("the Ray worker running this job crashed (and its retries)")
            yield job, record
    finally:
        if started_here:
            ray.shutdown()
