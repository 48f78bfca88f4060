"""A benchmark video upscaled to 1920×1080 (or any size), made once with PyAV and cached in the temp folder.

Frames are scaled by swscale (bicubic) and encoded as H.264 (x264 ``veryfast``, CRF 20; MPEG-4 part 2 where
PyAV lacks libx264) with the source's timestamps, so frame count, rate and duration are the source's.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def upscaled(video: Path, width: int = 1920, height: int = 1080) -> Path:
    """The cached ``width`` × ``height`` copy of ``video`` (made on first use)."""
    import av

    target = Path(tempfile.gettempdir()) / "dfer-bench" / f"{video.stem}_{width}x{height}.mp4"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.mp4")
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(video)) as source, av.open(str(partial), "w") as output:
        stream = source.streams.video[0]
        encoder = output.add_stream(codec, rate=stream.average_rate)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base = stream.time_base
        if codec == "libx264":
            encoder.options = {"preset": "veryfast", "crf": "20"}
        else:
            encoder.bit_rate = 20_000_000
        for frame in source.decode(stream):
            scaled = frame.reformat(width, height, "yuv420p", interpolation="BICUBIC")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            output.mux(encoder.encode(scaled))
        output.mux(encoder.encode())
    os.replace(partial, target)
    return target
