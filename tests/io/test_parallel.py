"""run_jobs: every job's record comes back, a worker that dies twice gives WorkerDied, bad backends are refused."""

import os
from dataclasses import dataclass

import pytest

from dfer.errors import InputError
from dfer.io.parallel import WorkerDied, run_jobs


@dataclass(frozen=True)
class Job:
    key: str
    value: int


def square_or_die(job: Job, offset: int) -> dict:
    if job.value < 0:
        os._exit(3)  # the worker process dies, as when killed or out of memory
    return {"square": job.value ** 2 + offset, "pid": os.getpid()}


def test_every_job_comes_back_from_worker_processes():
    jobs = [Job(str(i), i) for i in range(6)]
    records = dict((job.key, record) for job, record in run_jobs(square_or_die, jobs, (1,), workers=2))
    assert {key: record["square"] for key, record in records.items()} == {str(i): i * i + 1 for i in range(6)}
    assert os.getpid() not in {record["pid"] for record in records.values()}


def test_a_job_whose_worker_dies_twice_gets_worker_died_and_the_others_finish():
    jobs = [Job("good", 3), Job("deadly", -1), Job("also good", 4)]
    records = dict((job.key, record) for job, record in run_jobs(square_or_die, jobs, (0,), workers=2))
    assert isinstance(records["deadly"], WorkerDied) and "died twice" in str(records["deadly"])
    assert records["good"]["square"] == 9 and records["also good"]["square"] == 16


def test_an_unknown_backend_is_refused():
    with pytest.raises(InputError, match="unknown backend 'dask'"):
        list(run_jobs(square_or_die, [Job("a", 1)], (0,), backend="dask"))
