"""Preprocessing speed and tracking accuracy on a real video, against detecting on every frame.

End to end on ``WolfgangLanger_Pexels.mp4`` (640×360, 472 frames, 23.976 fps): decode, detect,
track, align, write 224²/112² face crops, 336×504/112×168 scene frames and the per-frame table —
the default pipeline (detect every 5 frames on frames shrunk while faces are large, follow by
landmarks) next to the same pipeline detecting on every full-size frame, measured in the same run.
Also: the landmark difference of tracked frames against detect-every-frame, in % of the
inter-ocular distance (goal: mean < 3%), and throughput over all five fixture videos with 1 and 2
worker processes.

The same at 1080p, on the video upscaled to 1920×1080 (made once, cached in the temp folder; see
``upscaled.py``): frames/s (goal ≥ 100), its share of decoding alone and the landmark difference
(the detect-every-frame reference runs once there: it is slow).

    python bench/preprocess.py [--video PATH] [--repeats 3] [--upscale 1080]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dfer.faces.landmarks import interocular
from dfer.faces.track import TrackerOptions
from dfer.io.video import iter_frames, probe
from dfer.preprocess import PreprocessOptions, VideoJob, preprocess, process_video
from dfer.preprocess.table import NO_FACE, landmarks_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upscaled import upscaled  # noqa: E402  (beside this script)

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "videos"


def timed_runs(video: Path, options: PreprocessOptions, repeats: int, work: Path) -> tuple[list[float], pd.DataFrame]:
    """Wall seconds of ``repeats`` end-to-end runs of one video, and the last run's table."""
    seconds = []
    for repeat in range(repeats):
        out = work / f"run{repeat}"
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        process_video(VideoJob("video", str(video)), out, options)
        seconds.append(time.perf_counter() - started)
    return seconds, pd.read_parquet(out / "tables" / "video.parquet")


def landmark_difference(tracked: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Per tracked (not detected) frame: mean landmark distance to the reference, / inter-ocular distance."""
    tracked = tracked[(tracked.track != NO_FACE) & tracked.success & ~tracked.detected].set_index("frame")
    reference = reference[(reference.track != NO_FACE) & reference.success].drop_duplicates("frame").set_index("frame")
    errors = []
    for frame in tracked.index.intersection(reference.index):
        ours, theirs = landmarks_of(tracked.loc[frame]), landmarks_of(reference.loc[frame])
        errors.append(np.linalg.norm(ours - theirs, axis=1).mean() / interocular(theirs))
    return np.asarray(errors)


def compare(video: Path, repeats: int, reference_repeats: int, work: Path) -> None:
    """Print the default pipeline against detecting every full-size frame on one video: speed, its share of
    decoding alone, and the landmark difference of tracked frames."""
    info = probe(video)
    frames = sum(1 for _ in iter_frames(video))
    print(f"{video.name}: {info.width}×{info.height}, {frames} frames, {info.fps:.3f} fps; median of {repeats} "
          f"runs (detect every frame: {reference_repeats})")
    process_video(VideoJob("warmup", str(video)), work / "warmup", PreprocessOptions())  # models, file cache
    rows, tables = {}, {}
    for name, every, runs in (("tracking (detect every 5)", 5, repeats), ("detect every frame", 1, reference_repeats)):
        # the naive reference detects every frame at full size (no working size, no further shrinking)
        tracker = TrackerOptions(detect_every=every) if every > 1 else TrackerOptions(
            detect_every=1, coarse_detection=False, detect_size=0)
        options = PreprocessOptions(tracker=tracker)
        seconds, tables[every] = timed_runs(video, options, runs, work / f"k{every}")
        median = statistics.median(seconds)
        rows[name] = {"seconds": median, "frames/s": frames / median, "× real time": frames / median / info.fps,
                      "runs (s)": " ".join(f"{s:.2f}" for s in seconds)}
    table = pd.DataFrame(rows).T
    table["speed-up"] = table["frames/s"] / rows["detect every frame"]["frames/s"]
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    decoding = []
    for _ in range(repeats):
        started = time.perf_counter()
        sum(1 for _ in iter_frames(video))
        decoding.append(frames / (time.perf_counter() - started))
    rate = rows["tracking (detect every 5)"]["frames/s"]
    print(f"decoding alone: {statistics.median(decoding):.1f} frames/s; tracking runs at "
          f"{rate / statistics.median(decoding):.2f} of it")
    tracked_rows = tables[5]
    errors = landmark_difference(tracked_rows, tables[1])
    faces = tracked_rows[(tracked_rows.track != NO_FACE) & tracked_rows.success]
    print(f"frames with a face: {faces.frame.nunique()} of {frames} (tracks: {faces.track.nunique()}); "
          f"detections run: {int(faces.detected.sum())} of {frames} frames")
    print(f"landmarks of {len(errors)} tracked frames vs detect-every-frame, % of inter-ocular distance: "
          f"mean {100 * errors.mean():.2f}, median {100 * np.median(errors):.2f}, "
          f"95th percentile {100 * np.percentile(errors, 95):.2f}, max {100 * errors.max():.2f} (goal: mean < 3)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=FIXTURES / "WolfgangLanger_Pexels.mp4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--upscale", type=int, default=1080, help="also measure the video upscaled to this "
                        "height (16:9; 0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        compare(args.video, args.repeats, args.repeats, work / "source")
        if args.upscale:
            large = upscaled(args.video, args.upscale * 16 // 9 // 2 * 2, args.upscale)
            compare(large, args.repeats, 1, work / "upscaled")
        fixtures = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".mp4", ".mov"))
        print(f"all {len(fixtures)} fixture videos, default options:")
        for workers in (1, 2):
            summary = preprocess(fixtures, work / f"all{workers}", PreprocessOptions(), workers=workers, progress=False)
            print(f"  {workers} worker(s): {summary.frames} frames in {summary.seconds:.1f} s = "
                  f"{summary.frames_per_second:.1f} frames/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
