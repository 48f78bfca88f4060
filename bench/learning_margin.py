"""How far above their thresholds the learning tests land, across seeds and CPUs.

The learning tests (``tests/engine/test_learning.py``: every family's WAR on synthetic FERV39k;
``tests/spot/test_learning.py``: BMN against sliding windows) assert a trained result. Floating-point
results differ between CPUs, and training amplifies such differences much as a change of seed does.
This script runs those tests, unchanged, under several CPU environments and seeds
(``DFER_LEARNING_SEED``), one pytest process each, and reads what each test recorded
(``record_property``: its figure, threshold, seconds, the CPU capability it ran with and the sha256
of its synthetic data) from pytest's JUnit XML. It prints every run, the minimum margin per test,
and whether every run saw byte-identical synthetic data (each ``*_sha256`` property).

The environments (``--environments``) choose the kernels each library runs:

* ``avx512``, ``avx2``, ``default``: PyTorch's ``ATEN_CPU_CAPABILITY`` only (what the tests'
  docstrings quote; a capability the CPU lacks runs as the best it has).
* ``avx2-machine``: a CPU without AVX-512 as far as PyTorch (ATen and oneDNN), NumPy, OpenBLAS and
  OpenCV can tell: the 2-core AMD EPYC of issue 23.
* ``sse-machine``: a CPU without AVX or AVX2 for the same libraries (slow: oneDNN's SSE4.1 kernels).

    python bench/learning_margin.py [--environments avx512 avx2 default] [--seeds 0 1 2]
        [--tests tests/engine/test_learning.py tests/spot/test_learning.py] [--work DIR] [--no-run]

Each run's XML is kept in ``WORK`` and reused when the script is run again, so a long sweep
resumes after a kill; delete ``WORK`` after changing the tests. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ("tests/engine/test_learning.py", "tests/spot/test_learning.py")

_NUMPY_NO_AVX512 = "X86_V4,AVX512_ICL,AVX512_SPR"
_OPENCV_NO_AVX512 = "AVX512-SKX,AVX512-CLX"
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "default": {"ATEN_CPU_CAPABILITY": "default"},
    "avx2-machine": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                     "NPY_DISABLE_CPU_FEATURES": _NUMPY_NO_AVX512, "OPENBLAS_CORETYPE": "Haswell",
                     "OPENCV_CPU_DISABLE": _OPENCV_NO_AVX512},
    "sse-machine": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "NPY_DISABLE_CPU_FEATURES": "X86_V3," + _NUMPY_NO_AVX512,
                    "OPENBLAS_CORETYPE": "Nehalem",
                    "OPENCV_CPU_DISABLE": _OPENCV_NO_AVX512 + ",AVX_VNNI,AVX2,FP16,AVX"},
}


def run_tests(tests: list[str], environment: str, seed: int, work: Path) -> Path:
    """The JUnit XML of one pytest run of ``tests`` (reused if a previous run left it)."""
    report = work / f"{environment}-seed{seed}.xml"
    if report.is_file():
        return report
    env = dict(os.environ, **ENVIRONMENTS[environment], DFER_LEARNING_SEED=str(seed))
    partial = report.with_suffix(".partial.xml")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={partial}", *tests],
                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not partial.is_file():
        raise RuntimeError(f"pytest wrote no report for {environment} seed {seed}")
    partial.replace(report)
    print(f"  {environment} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    return report


def read_report(report: Path) -> list[dict]:
    """One row per test case that recorded a ``margin``: its properties, name and outcome."""
    rows = []
    for case in ElementTree.parse(report).iter("testcase"):
        properties = {item.get("name"): item.get("value") for item in case.iter("property")}
        if "margin" not in properties:
            continue
        failed = case.find("failure") is not None or case.find("error") is not None
        rows.append({"test": case.get("name"), "passed": not failed, **properties})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--environments", nargs="+", default=["avx512", "avx2", "default"], choices=ENVIRONMENTS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tests", nargs="+", default=list(TESTS))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dfer_learning_margin")
    parser.add_argument("--no-run", action="store_true", help="only report the runs already in WORK")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    rows = []
    for environment in args.environments:
        for seed in args.seeds:
            if args.no_run and not (args.work / f"{environment}-seed{seed}.xml").is_file():
                continue
            for row in read_report(run_tests(args.tests, environment, seed, args.work)):
                rows.append({"environment": environment, "seed": seed, **row})

    width = max(len(row["test"]) for row in rows) + 2
    print(f"\n{'test':<{width}}{'env':<14}{'seed':>5}{'ran as':>9}{'value':>8}{'threshold':>10}{'margin':>8}{'s':>6}")
    for row in sorted(rows, key=lambda r: (r["test"], r["environment"], r["seed"])):
        print(f"{row['test']:<{width}}{row['environment']:<14}{row['seed']:>5}{row['capability']:>9}"
              f"{float(row['value']):>8.3f}{float(row['threshold']):>10.3f}{float(row['margin']):>8.3f}"
              f"{float(row['seconds']):>6.0f}{'' if row['passed'] else '  FAILED'}")
    print(f"\n{'test':<{width}}{'runs':>5}{'min margin':>11}{'median':>8}{'max':>7}{'failed':>7}   data")
    for test in sorted({row["test"] for row in rows}):
        mine = [row for row in rows if row["test"] == test]
        margins = sorted(float(row["margin"]) for row in mine)
        kinds = sorted(key for key in mine[0] if key.endswith("_sha256"))
        data = ", ".join(f"{kind[:-7]} " + ("identical" if len({row[kind] for row in mine}) == 1 else
                                            f"{len({row[kind] for row in mine})} DIFFERENT") for kind in kinds)
        print(f"{test:<{width}}{len(mine):>5}{margins[0]:>11.3f}{margins[len(margins) // 2]:>8.3f}{margins[-1]:>7.3f}"
              f"{sum(not row['passed'] for row in mine):>7}   {data}")


if __name__ == "__main__":
    main()
