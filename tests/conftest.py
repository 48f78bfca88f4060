"""Shared fixtures: tiny hand-built release layouts and cached synthetic datasets."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist (``make test`` runs ``-n auto``): the workers share the machine's cores, so each
    # worker and the processes it starts get their share of threads (set before torch and NumPy load
    # in this worker); OpenMP threads beyond the cores spin against each other and run 4× slower.
    _THREADS = str(max(1, len(os.sched_getaffinity(0)) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))))
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_variable, _THREADS)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "synthetic"


def run_cli(*args, timeout: float = 600):
    """``dfer ARGS…`` in a fresh process: its exit status, stdout and stderr."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "dfer.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def write_frames(folder: Path, names, size=16, seed=0):
    """Write small distinct JPEG frames named ``names`` into ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index, name in enumerate(names):
        image = np.full((size, size, 3), (index * 13) % 256, np.uint8)
        image[: size // 2] = rng.integers(0, 255, (size // 2, size, 3), dtype=np.uint8)
        Image.fromarray(image).save(folder / name)
        paths.append(folder / name)
    return paths


def make_checkpoint(folder: Path, config_name: str) -> Path:
    """A checkpoint as ``dfer train`` writes it (weights untrained: the plumbing is under test)."""
    import torch

    from dfer import labels
    from dfer.engine import checkpoint
    from dfer.engine.config import load_config, to_dict
    from dfer.models.zoo import build_model

    config = load_config(CONFIGS / f"{config_name}.yaml")
    torch.manual_seed(0)
    model = build_model(config.model.name, num_classes=labels.NUM_CLASSES, **config.model.options)
    path = folder / f"{config_name}.pt"
    checkpoint.save(path, {"model": model.state_dict(), "config": to_dict(config), "model_name": config.model.name,
                           "num_classes": labels.NUM_CLASSES})
    return path


#: ``DFER_LEARNING_SEED``: the learning tests train with this seed instead of their configs' (the
#: sweep of ``bench/learning_margin.py``); unset, the configs' own.
LEARNING_SEED = os.environ.get("DFER_LEARNING_SEED", "")


def learning_seed_overrides() -> list[str]:
    """Config overrides that apply ``DFER_LEARNING_SEED`` (none when it is unset)."""
    return [f"seed={int(LEARNING_SEED)}"] if LEARNING_SEED else []


def record_learning(record_property, value: float, threshold: float, seconds: float, data_sha256: str, **more) -> None:
    """Record a learning test's figure for ``bench/learning_margin.py`` (JUnit XML properties): the
    figure, its threshold, the margin between them, the seconds it took, the CPU capability PyTorch
    ran with and the sha256 of the synthetic data it learned from."""
    import torch

    for name, item in {"value": value, "threshold": threshold, "margin": value - threshold, "seconds": round(seconds, 1),
                       "capability": torch.backends.cpu.get_cpu_capability(), "seed": LEARNING_SEED or "config",
                       "data_sha256": data_sha256, **more}.items():
        # plain str and float: pytest-xdist sends the properties between processes and cannot send NumPy's
        record_property(name, item if isinstance(item, str) else float(item))


def pytest_sessionfinish(session, exitstatus):
    """Module and session fixtures' folders (synthetic datasets, the spotting pipeline: ~1 GB a run)
    are not covered by ``tmp_path_retention_policy``; after a run without a failure they go too, so
    repeated runs leave nothing behind; after a failure they stay to look at. Under xdist the
    controller does it once every worker is done (its base folder holds the workers' and the
    shared one)."""
    if exitstatus == 0 and not hasattr(session.config, "workerinput"):
        import shutil

        factory = getattr(session.config, "_tmp_path_factory", None)  # pytest's own, as xdist uses it
        if factory is not None:
            shutil.rmtree(factory.getbasetemp(), ignore_errors=True)


def shared_folder(tmp_path_factory, name: str, build) -> tuple[Path, str]:
    """A folder ``build(folder)`` fills once per test run, however many xdist workers ask for it:
    the first builds it holding a lock, the others wait for it (never longer than building it
    themselves would take) and reuse it. Returns the folder and what ``build`` returned (a str or
    None, kept as text)."""
    import fcntl
    import shutil

    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    shared.mkdir(exist_ok=True)
    folder, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done.write_text(build(folder) or "")
    return folder, done.read_text()


@pytest.fixture(scope="session")
def synthetic_ferv39k_48(tmp_path_factory) -> tuple[Path, str]:
    """The learning tests' dataset, as the synthetic configs' headers tell users to make it:
    FERV39k layout, 300 clips (240 train, 60 test), 48² face crops, seed 0; and its tree sha256."""
    from dfer.data.synth import write_synthetic
    from dfer.io.hashing import tree_sha256

    def build(root: Path) -> str:
        summary = write_synthetic(root, "ferv39k", 300, seed=0, size=48, progress=False)
        assert (summary["train"], summary["test"]) == (240, 60)
        return tree_sha256(root)

    return shared_folder(tmp_path_factory, "synthetic_ferv39k_48", build)


@pytest.fixture(scope="session")
def synthetic_ferv39k_2d_run(synthetic_ferv39k_48, tmp_path_factory) -> tuple[dict, Path, float]:
    """``configs/synthetic/ferv39k_2d.yaml`` trained on :func:`synthetic_ferv39k_48` once, as ``dfer
    train`` runs it: the 2D family's learning test asserts its test metrics, the spotting learning
    test extracts snippet features with its ``best.pt``. Returns the metrics, the run's folder and
    the seconds it took."""
    import time

    from dfer.engine.config import load_config
    from dfer.engine.protocols import run

    out = tmp_path_factory.mktemp("ferv39k_2d")
    config = load_config(CONFIGS / "ferv39k_2d.yaml", [f"data.root={synthetic_ferv39k_48[0]}", f"out={out}",
                                                       "train.progress=false", *learning_seed_overrides()])
    started = time.perf_counter()
    metrics = run(config)
    return metrics, out / config.name, time.perf_counter() - started


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """``synthetic(format, clips)`` → root of a synthetic dataset (size 64, seed 0) written once per
    run (:func:`shared_folder`); tests read it and never write into it."""
    from dfer.data.synth import write_synthetic

    def make(format: str, clips: int = 60) -> Path:
        def build(root: Path) -> None:
            write_synthetic(root, format, clips, seed=0, size=64, progress=False)

        return shared_folder(tmp_path_factory, f"synth_{format}_{clips}", build)[0]

    return make


def make_video(path: Path, frames=None, size=(48, 64), codec="mpeg4", fps=10, rotation=0, pts=None,
               time_base=None) -> Path:
    """Encode RGB ``frames`` (default: 12 random ones) with PyAV; ``pts`` in ``time_base`` units
    gives each frame its own timestamp (variable frame rate)."""
    from fractions import Fraction

    import av

    if frames is None:
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (*size, 3), dtype=np.uint8) for _ in range(12)]
    height, width = frames[0].shape[:2] if len(frames) else size
    pix_fmt = {"mpeg4": "yuv420p", "png": "rgb24", "mjpeg": "yuvj444p"}[codec]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(time_base)
        if rotation:
            stream.set_display_rotation(rotation)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[index], Fraction(time_base)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_truncated_mp4(path: Path, frames: int = 27) -> Path:
    """An MP4 whose index (written first, "faststart") declares ``frames`` frames but whose second
    half is missing: it opens, and decoding it simply stops early."""
    import av

    whole = path.with_name(f"whole_{path.name}")
    rng = np.random.default_rng(0)
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(frames):
            image = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    whole.unlink()
    return path


def write_bad_videos(folder: Path) -> dict[str, Path]:
    """One file of each kind of bad input ``dfer preprocess`` must report, by kind."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    bad = {"empty": folder / "empty.mp4", "text": folder / "notes.mp4", "zero_frames": folder / "zero.avi",
           "audio_only": folder / "audio.mp4", "truncated": folder / "truncated.mkv",
           "too_large": folder / "huge.mp4"}
    bad["empty"].write_bytes(b"")
    bad["text"].write_text("this is not a video\n" * 20)
    with av.open(str(bad["zero_frames"]), "w") as container:  # a video stream with no frames
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 32, 32
        container.start_encoding()
    with av.open(str(bad["audio_only"]), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    whole = make_video(folder / "whole.mkv.tmp.mkv", [np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8)
                                                      for i in range(40)])
    data = whole.read_bytes()
    bad["truncated"].write_bytes(data[: len(data) // 2])
    whole.unlink()
    make_video(bad["too_large"], [np.zeros((4096, 4352, 3), np.uint8)])
    return bad


@pytest.fixture()
def page():
    """A page of headless Chromium (Debian's package) driven by Playwright. Where the browser is
    missing the test skips, saying so; ``DFER_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs
    Chromium first) turns a missing browser into a failure."""
    import os
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("DFER_REQUIRE_BROWSER") == "1":
            pytest.fail("DFER_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium); the browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--autoplay-policy=no-user-gesture-required"])
        yield browser.new_page()
        browser.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "long(minutes): a test of minutes (its estimate on 2 cores)")
