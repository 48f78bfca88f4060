"""Media as the web app serves them: constant-frame-rate H.264 copies made once, on ingest.

A browser reports time, not frames; a copy holding every decoded frame of the source once, in
order, at an equal spacing of 1/fps makes time ↔ frame exact: frame k is shown over
[k/fps, (k+1)/fps). Copies are written atomically, and a finished one is kept, so an interrupted
ingest resumes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tqdm import tqdm

from dfer.errors import DatasetError, InputError
from dfer.io.video import iter_frames, probe, write_video
from dfer.web.store import open_store


def ingest(source: Path, target: Path) -> tuple[float, int]:
    """Copy a video as constant-frame-rate H.264: every decoded frame once, in order, at the
    source's nominal fps (25 when it gives none). Returns (fps, frames); a finished copy is kept."""
    info = probe(source)
    fps = info.fps if info.fps > 0 else 25.0
    if target.is_file():
        with_frames = probe(target).frames
        if with_frames:
            return fps, with_frames
    frames = write_video(target, (frame.image for frame in iter_frames(source, info)), fps)
    return fps, frames


def ingest_clips(database: str | Path, media: str | Path, progress: bool = True) -> dict[str, int]:
    """Copy every clip of the database (paths relative to ``media``) into ``media/cfr/`` and record
    each copy's fps and frames (table ``clip_media``), which the labelling page then serves and
    steps by. Unreadable clips are listed, not copied. Returns ``{"copied", "kept", "failed"}``."""
    media = Path(media)
    with open_store(database) as connection:
        clips = connection.execute("SELECT clip_id, path FROM clips ORDER BY clip_id").fetchall()
        done = {c for (c,) in connection.execute("SELECT clip_id FROM clip_media")}
    counts = {"copied": 0, "kept": 0, "failed": 0}
    failures = []
    for clip_id, path in tqdm(clips, desc="ingest", unit="clip", disable=None if progress else True):
        if clip_id in done:
            counts["kept"] += 1
            continue
        source = (media / path).resolve()
        if not source.is_relative_to(media.resolve()) or not source.is_file():
            failures.append(f"{clip_id}: {path} is not a file under {media}")
            continue
        file = Path("cfr") / f"{hashlib.sha256(clip_id.encode()).hexdigest()[:16]}.mp4"
        try:
            fps, frames = ingest(source, media / file)
        except InputError as error:  # unreadable, truncated, no frames
            failures.append(f"{clip_id}: {error}")
            continue
        with connection:
            connection.execute("INSERT OR REPLACE INTO clip_media VALUES (?, ?, ?, ?)",
                               (clip_id, str(file), fps, frames))
        counts["copied"] += 1
    connection.close()
    counts["failed"] = len(failures)
    if failures and not counts["copied"] + counts["kept"]:
        raise DatasetError(media, "no clip could be copied: " + "; ".join(failures[:5]))
    for failure in failures:
        print(f"dfer: warning: {failure}")
    return counts
