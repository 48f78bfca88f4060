"""Preprocessing speed and tracking accuracy on a real video, against detecting on every frame.

End to end on ``WolfgangLanger_Pexels.mp4`` (640×360, 472 frames, 23.976 fps): decode, detect,
track, align, write 224²/112² face crops, 336×504/112×168 scene frames and the per-frame table —
the default pipeline (detect every 5 frames, half-size detections while faces are large, follow
by landmarks) next to the same pipeline detecting on every full-size frame, measured in the same
run. Also: the landmark difference of tracked
frames against detect-every-frame, in % of the inter-ocular distance (goal: mean < 3%), and
throughput over all five fixture videos with 1 and 2 worker processes.

    python bench/preprocess.py [--video PATH] [--repeats 3]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dfer.faces.landmarks import interocular
from dfer.faces.track import TrackerOptions
from dfer.preprocess import PreprocessOptions, VideoJob, preprocess, process_video
from dfer.preprocess.table import NO_FACE, landmarks_of

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=FIXTURES / "WolfgangLanger_Pexels.mp4")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import av

    with av.open(str(args.video)) as container:
        stream = container.streams.video[0]
        fps, size = float(stream.average_rate), f"{stream.codec_context.width}×{stream.codec_context.height}"
    frames = sum(1 for _ in av.open(str(args.video)).decode(video=0))
    print(f"{args.video.name}: {size}, {frames} frames, {fps:.3f} fps; median of {args.repeats} runs each\n")

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        process_video(VideoJob("warmup", str(args.video)), work / "warmup", PreprocessOptions())  # load models
        rows = {}
        tables = {}
        for name, every in (("tracking (detect every 5)", 5), ("detect every frame", 1)):
            # the naive reference detects every frame at full size (no half-size detections)
            options = PreprocessOptions(tracker=TrackerOptions(detect_every=every, coarse_detection=every > 1))
            seconds, tables[every] = timed_runs(args.video, options, args.repeats, work / f"k{every}")
            median = statistics.median(seconds)
            rows[name] = {"seconds": median, "frames/s": frames / median, "× real time": frames / median / fps,
                          "runs (s)": " ".join(f"{s:.2f}" for s in seconds)}
        table = pd.DataFrame(rows).T
        naive = rows["detect every frame"]["frames/s"]
        table["speed-up"] = table["frames/s"] / naive
        print(table.to_string(float_format=lambda v: f"{v:.2f}"))
        tracked_rows = tables[5]
        errors = landmark_difference(tracked_rows, tables[1])
        faces = tracked_rows[(tracked_rows.track != NO_FACE) & tracked_rows.success]
        print(f"\nframes with a face: {faces.frame.nunique()} of {frames} (tracks: {faces.track.nunique()}); "
              f"detections run: {int(faces.detected.sum())} of {frames} frames")
        print(f"landmarks of {len(errors)} tracked frames vs detect-every-frame, % of inter-ocular distance: "
              f"mean {100 * errors.mean():.2f}, median {100 * np.median(errors):.2f}, "
              f"95th percentile {100 * np.percentile(errors, 95):.2f}, max {100 * errors.max():.2f} (goal: mean < 3)")

        fixtures = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".mp4", ".mov"))
        print(f"\nall {len(fixtures)} fixture videos, default options:")
        for workers in (1, 2):
            summary = preprocess(fixtures, work / f"all{workers}", PreprocessOptions(), workers=workers, progress=False)
            print(f"  {workers} worker(s): {summary.frames} frames in {summary.seconds:.1f} s = "
                  f"{summary.frames_per_second:.1f} frames/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
