"""``dfer predict`` speed and memory with the default model, against the plain per-frame loop.

On the sample video (640×360, 472 frames, 23.976 fps): ``dfer.predict`` (stream decoding, HOG
detection every 5 frames ahead in a thread, landmark tracking in between, batched mini-Xception)
next to the plain loop — decode a frame, detect faces on it, classify each face on its own —
measured in the same run, as multiples of real time (goal ≥ 3×). Memory: peak resident memory of
a fresh process predicting on the video and on the video repeated 4 times (goal: flat).

The whole command from a cold process — ``dfer predict VIDEO --out DIR``, interpreter start,
imports, analysis and outputs — as a multiple of real time (goal ≥ 5×) with its peak resident
memory (goal ≤ 500 MB), and the analysis' frames/s as a share of decoding alone (aim ≥ 0.5).

At 1080p: the same video upscaled to 1920×1080 (made once, cached in the temp folder; see
``upscaled.py``), its analysis as a multiple of real time (goal ≥ 4×) and as a share of decoding alone.

    python bench/predict.py [--video PATH] [--repeats 3] [--upscale 1080]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from dfer.assets import asset_path
from dfer.faces.detect import make_detector
from dfer.io.video import iter_frames, probe
from dfer.predict import predict
from dfer.models.default import DefaultClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upscaled import upscaled  # noqa: E402  (beside this script)

# Peak memory is the process's own high-water mark (VmHWM): getrusage's ru_maxrss carries the
# parent's peak over into a child started by vfork + exec, so it reported this script's own size.
COMMAND = """
import json, re, sys, time
started = time.perf_counter()
from dfer.cli import main
status = main(["predict", sys.argv[1], "--out", sys.argv[2]])
print(json.dumps({"status": status, "seconds": time.perf_counter() - started, "torch": "torch" in sys.modules,
                  "peak_mib": int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read())[1]) / 1024}))
"""

CHILD = """
import json, re, sys
from dfer.predict import predict
from dfer.models.default import DefaultClassifier
result = predict(sys.argv[1], DefaultClassifier(sys.argv[2]))
peak = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read())[1]) / 1024
print(json.dumps({"frames": len(result.frames), "peak_mib": peak}))
"""


def plain_loop(video: Path, classifier: DefaultClassifier) -> int:
    """Detect and classify on every frame, one face at a time (the naive way)."""
    detector = make_detector("hog")
    faces = 0
    for frame in iter_frames(video):
        grey = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        for detection in detector(frame.image):
            classifier(classifier.crop(grey, detection.box)[None])
            faces += 1
    return faces


def repeated(video: Path, times: int, folder: Path) -> Path:
    """The video ``times`` times in a row (re-encoded), to test memory against length."""
    import av

    target = folder / f"{video.stem}_x{times}.mp4"
    info = probe(video)
    with av.open(str(target), "w") as container:
        stream = container.add_stream("mpeg4", rate=round(info.fps))
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
        stream.bit_rate = 2_000_000
        for _ in range(times):
            for frame in iter_frames(video):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame.image, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return target


def timed(run, repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``run``."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def decode_rate(video: Path, frames: int, repeats: int) -> float:
    """Frames/s of decoding alone (to RGB, as the analysis decodes), median of ``repeats`` runs."""
    return frames / statistics.median(timed(lambda: sum(1 for _ in iter_frames(video)), repeats))


def analysis_against_decoding(video: Path, runs: list[float], goal: float) -> None:
    """Print the analysis' frames/s (median of its ``runs``, in s) as a multiple of real time and as a share of
    decoding alone (measured as many times)."""
    info = probe(video)
    frames = sum(1 for _ in iter_frames(video))
    seconds = statistics.median(runs)
    duration, rate, decoding = frames / info.fps, frames / seconds, decode_rate(video, frames, len(runs))
    print(f"{info.width}×{info.height}: analysis {rate:.1f} frames/s = {duration / seconds:.2f}× real time "
          f"(goal ≥ {goal:g}×; runs: {' '.join(f'{s:.2f}' for s in runs)} s); decoding alone {decoding:.1f} "
          f"frames/s; the analysis runs at {rate / decoding:.2f} of it (aim ≥ 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=None, help="default: the sample video (dfer assets)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--upscale", type=int, default=1080, help="also measure the video upscaled to this "
                        "height (16:9; 0: skip)")
    args = parser.parse_args()
    video = args.video or asset_path("sample_video")
    weights = asset_path("emotion_model")
    info = probe(video)
    frames = sum(1 for _ in iter_frames(video))
    duration = frames / info.fps
    print(f"{video.name}: {info.width}×{info.height}, {frames} frames, {info.fps:.3f} fps, {duration:.1f} s; "
          f"median of {args.repeats} runs\n")
    classifier = DefaultClassifier(weights)
    predict(video, classifier)  # warm-up: face models loaded once per process
    timings, seconds_of = {}, {}
    for name, run in (("dfer.predict", lambda: predict(video, classifier)),
                      ("plain per-frame loop", lambda: plain_loop(video, classifier))):
        seconds = seconds_of[name] = timed(run, args.repeats)
        timings[name] = statistics.median(seconds)
        print(f"{name:22s} {timings[name]:6.2f} s  {frames / timings[name]:6.1f} frames/s  "
              f"{duration / timings[name]:5.2f}× real time  (runs: {' '.join(f'{s:.2f}' for s in seconds)})")
    print(f"speed-up over the plain loop: {timings['plain per-frame loop'] / timings['dfer.predict']:.2f}×\n")
    analysis_against_decoding(video, seconds_of["dfer.predict"], goal=10)
    if args.upscale:
        large = upscaled(video, args.upscale * 16 // 9 // 2 * 2, args.upscale)
        predict(large, classifier)  # warm-up: first decoding of the new file
        analysis_against_decoding(large, timed(lambda: predict(large, classifier), args.repeats), goal=4)

    with tempfile.TemporaryDirectory() as folder:
        print("\nthe whole command, cold process (interpreter start, imports, analysis, outputs):")
        runs = []
        for run in range(args.repeats):
            output = subprocess.run([sys.executable, "-c", COMMAND, str(video), str(Path(folder) / f"o{run}")],
                                    capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(output.strip().splitlines()[-1]))
        seconds = statistics.median(r["seconds"] for r in runs)
        print(f"  dfer predict: {seconds:.2f} s, {duration / seconds:.2f}× real time (goal ≥ 5×); peak "
              f"{max(r['peak_mib'] for r in runs):.0f} MiB (goal ≤ 500 MB); torch imported: {runs[0]['torch']}")
        long_video = repeated(video, 4, Path(folder))
        print("\npeak resident memory of a fresh process running predict:")
        for path in (video, long_video):
            output = subprocess.run([sys.executable, "-c", CHILD, str(path), str(weights)], capture_output=True,
                                    text=True, check=True).stdout
            measured = json.loads(output.strip().splitlines()[-1])
            print(f"  {path.name:32s} {measured['frames']:5d} face-frames  {measured['peak_mib']:6.0f} MiB")


if __name__ == "__main__":
    main()
