"""Every model family learns the synthetic FERV39k dataset in a CI-sized CPU run, on any CPU.

One synthetic dataset (300 clips, 48² face crops, seed 0: 192 training, 48 validation and 60 test
clips) is written once; each family's small config from ``configs/synthetic/`` is trained on it
from scratch with its fixed seed and tested on the held-out clips (new identities, scenes and
lighting), exactly as ``dfer train`` would run it.

The claim is learning, not a tuned score: test WAR ≥ :data:`THRESHOLD` (75%), where chance is 20%
(the largest class) and an untrained network stays near it. Floating-point results differ between
CPUs (vectorised kernels, summation order, thread count), and training amplifies such a difference
as much as a change of seed does, so the threshold sits below the whole spread measured over seeds
and CPU kernels (:data:`MEASURED`): every family's lowest run is at least 18 points above it. The
synthetic data itself is byte-identical in every run (its sha256 is recorded; the sweep compares).
"""

import time
from pathlib import Path

import pytest

from dfer.engine.config import load_config
from dfer.engine.protocols import run
from tests.conftest import learning_seed_overrides, record_learning

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "synthetic"
FAMILIES = {
    "ferv39k_2d": "resnet18",
    "ferv39k_2d_lstm": "resnet18_lstm",
    "ferv39k_3d": "resnet3d_18",
    "ferv39k_two_stream": "two_resnet18_lstm",
    "ferv39k_tsn": "tsn_resnet18",
    "ferv39k_ceflnet": "ceflnet",
}
#: Minutes each family trains on 2 cores (``pytest.mark.long``).
MINUTES = {"ferv39k_2d": 0.5, "ferv39k_2d_lstm": 0.6, "ferv39k_3d": 1.2, "ferv39k_two_stream": 0.9,
           "ferv39k_tsn": 0.9, "ferv39k_ceflnet": 0.9}
THRESHOLD = 0.75

#: Test WAR per family as (lowest, median, highest) in 8 runs of ``python bench/learning_margin.py``
#: on a 2-core AMD EPYC with AVX-512 (2 threads): seeds 0–2 under ``ATEN_CPU_CAPABILITY`` avx512 and
#: avx2 (identical to each other there), seed 0 under default and as an AVX2-only machine (ATen,
#: oneDNN, MKL, NumPy, OpenBLAS and OpenCV kernels all limited to AVX2). The lowest is 18 points
#: above THRESHOLD; an earlier 90% threshold failed at 88.3% on a real AVX2-only EPYC.
MEASURED = {"ferv39k_2d": (0.950, 0.983, 0.983), "ferv39k_2d_lstm": (0.933, 0.950, 0.983),
            "ferv39k_3d": (0.933, 0.950, 0.983), "ferv39k_two_stream": (0.933, 0.967, 0.983),
            "ferv39k_tsn": (0.967, 0.983, 0.983), "ferv39k_ceflnet": (0.967, 0.983, 1.0)}


def test_every_family_has_a_config():
    assert sorted(path.stem for path in CONFIGS.glob("*.yaml")) == sorted(FAMILIES)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.long(minutes=MINUTES[name]))
                                  for name in FAMILIES])
def test_family_learns(synthetic_ferv39k_48, tmp_path, name, record_property):
    root, digest = synthetic_ferv39k_48
    config = load_config(CONFIGS / f"{name}.yaml", [f"data.root={root}", f"out={tmp_path}", "train.progress=false",
                                                     *learning_seed_overrides()])
    assert config.model.name == FAMILIES[name]
    started = time.perf_counter()
    metrics = run(config)
    record_learning(record_property, metrics["war"], THRESHOLD, time.perf_counter() - started, digest,
                    uar=metrics["uar"])
    assert metrics["war"] >= THRESHOLD, f"{name}: test WAR {metrics['war']:.1%} (UAR {metrics['uar']:.1%})"
