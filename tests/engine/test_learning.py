"""Every model family learns the synthetic FERV39k dataset in a CI-sized CPU run, on any CPU.

One synthetic dataset (300 clips, 48² face crops, seed 0: 192 training, 48 validation and 60 test
clips) is written once; each family's small config from ``configs/synthetic/`` is trained on it
from scratch with its fixed seed and tested on the held-out clips (new identities, scenes and
lighting), exactly as ``dfer train`` would run it.

The claim is learning, not a tuned score: test WAR ≥ :data:`THRESHOLD` (75%), where chance is 20%
(the largest class) and an untrained network stays near it. Floating-point results differ between
CPUs (vectorised kernels, summation order, thread count), and training amplifies such a difference
as much as a change of seed does, so the threshold sits below the whole spread measured over seeds
and CPU kernels (:data:`MEASURED`): every family's lowest run is at least 10 points above it (the
2D family's mean is 4 standard deviations of its runs above it). The synthetic data itself is byte-identical in every run (its sha256 is recorded; the sweep
compares). The 2D family's run is also the spotting test's feature extractor
(``tests/spot/test_learning.py``), trained once for both.
"""

import time
from pathlib import Path

import pytest

from dfer.engine.config import load_config
from dfer.engine.protocols import run
from tests.conftest import learning_seed_overrides, record_learning

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "synthetic"
#: one xdist worker runs both learning modules (tests/spot/test_learning.py): the dataset is written once
pytestmark = pytest.mark.xdist_group("learning")
FAMILIES = {
    "ferv39k_2d": "resnet18",
    "ferv39k_2d_lstm": "resnet18_lstm",
    "ferv39k_3d": "resnet3d_18",
    "ferv39k_two_stream": "two_resnet18_lstm",
    "ferv39k_tsn": "tsn_resnet18",
    "ferv39k_ceflnet": "ceflnet",
}
#: Minutes each family trains on 2 cores (``pytest.mark.long``).
MINUTES = {"ferv39k_2d": 0.4, "ferv39k_2d_lstm": 0.6, "ferv39k_3d": 1.2, "ferv39k_two_stream": 0.9,
           "ferv39k_tsn": 0.9, "ferv39k_ceflnet": 0.6}
THRESHOLD = 0.75

#: Test WAR per family as (lowest, median, highest) on a 2-core AMD EPYC with AVX-512. Runs of
#: ``python bench/learning_margin.py`` (2 threads): 2D-LSTM, 3D, two-stream and TSN 8 runs, seeds 0–2
#: under ``ATEN_CPU_CAPABILITY`` avx512 and avx2 (identical to each other there), seed 0 under default
#: and as an AVX2-only machine (ATen, oneDNN, MKL, NumPy, OpenBLAS and OpenCV kernels all limited to
#: AVX2); 2D (5 epochs) and CEFLNet (6 epochs) 9 runs, seeds 0–2 under avx512, default and as an
#: AVX2-only machine. Plus the whole suite under xdist (1 thread per worker: another summation order)
#: under avx512, avx2 and default, which gave TSN its lowest (88.3%, under default) and two-stream
#: its (91.7%). Lowest margins: 2D 10 points, CEFLNet and TSN 13.3, two-stream 16.7, the others 18.3;
#: an earlier 90% threshold failed at 88.3% on a real AVX2-only EPYC. (TSN after 5 epochs went down
#: to 83.3% in the sweep, so it keeps 8.)
MEASURED = {"ferv39k_2d": (0.850, 0.933, 0.967), "ferv39k_2d_lstm": (0.933, 0.950, 0.983),
            "ferv39k_3d": (0.933, 0.950, 0.983), "ferv39k_two_stream": (0.917, 0.967, 0.983),
            "ferv39k_tsn": (0.883, 0.983, 1.0), "ferv39k_ceflnet": (0.883, 0.933, 0.983)}


def test_every_family_has_a_config():
    assert sorted(path.stem for path in CONFIGS.glob("*.yaml")) == sorted(FAMILIES)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.long(minutes=MINUTES[name]))
                                  for name in FAMILIES])
def test_family_learns(synthetic_ferv39k_48, tmp_path, name, record_property, request):
    root, digest = synthetic_ferv39k_48
    config = load_config(CONFIGS / f"{name}.yaml", [f"data.root={root}", f"out={tmp_path}", "train.progress=false",
                                                     *learning_seed_overrides()])
    assert config.model.name == FAMILIES[name]
    if name == "ferv39k_2d":  # the same run the spotting test takes its feature extractor from, trained once
        metrics, _, seconds = request.getfixturevalue("synthetic_ferv39k_2d_run")
    else:
        started = time.perf_counter()
        metrics = run(config)
        seconds = time.perf_counter() - started
    record_learning(record_property, metrics["war"], THRESHOLD, seconds, digest, uar=metrics["uar"])
    assert metrics["war"] >= THRESHOLD, f"{name}: test WAR {metrics['war']:.1%} (UAR {metrics['uar']:.1%})"
