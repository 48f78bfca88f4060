"""The papers' preprocessing rules as pure functions over the per-frame face table.

The table has one row per face per frame and one row (``track`` = -1) for each frame without a
face; see :data:`dfer.preprocess.table.COLUMNS`. Rules, each a named option of ``dfer preprocess``:

* ``complete_gaps`` — frames inside a track where its face was lost for at most ``max_gap`` frames
  become failure rows of that track (``success`` False), so that they can be filled or counted;
  with ``fill`` (SDFE-LV) a failed frame's box and landmarks are the average of the nearest
  successful frames before and after it in the same track (``filled`` True). It is a stream
  stage, so crops of filled frames are cut in the same single decoding pass.
* ``face_fraction`` / ``main_track`` (DFEW) — the share of frames showing the main face; DFEW
  drops clips under 50% and drops the frames without a face.
* ``frame_counts`` (FERV39k's candidate rules use them) — faces per frame, face size, identity
  changes and shot cuts.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator

import pandas as pd

from dfer.preprocess.table import GEOMETRY, NO_FACE


def gap_row(before: dict, after: dict, frame: int, time: float, fill: bool) -> dict:
    """The failure row of a track at a ``frame`` between its observations ``before`` and ``after``;
    with ``fill`` (SDFE-LV) its box and landmarks are the mean of those two neighbours'."""
    row = {"video": before["video"], "frame": frame, "time": time, "track": before["track"],
           "success": False, "detected": False, "filled": fill, "cut": False}
    if fill:
        row.update({column: (before[column] + after[column]) / 2 for column in GEOMETRY})
    return row


def complete_gaps(frames: Iterable[tuple[object, list[dict]]], max_gap: int, fill: bool
                  ) -> Iterator[tuple[object, list[dict]]]:
    """Stream stage over ``(frame, rows)`` in frame order: where a track is seen again after at most
    ``max_gap`` unseen frames, those frames get a failure row of that track (filled from its two
    neighbours with ``fill``). Frames come out ``max_gap + 1`` frames late with their final rows;
    a frame's no-face row goes once it holds a track's row."""
    buffer: deque = deque()
    last_seen: dict[int, tuple[int, dict]] = {}
    for frame, rows in frames:
        for row in rows:
            if row["track"] == NO_FACE:
                continue
            previous = last_seen.get(row["track"])
            if previous is not None and 1 < frame.index - previous[0] <= max_gap + 1:
                for gap_frame, gap_rows in buffer:
                    if previous[0] < gap_frame.index < frame.index:
                        kept = [r for r in gap_rows if r["track"] != NO_FACE]
                        kept.append(gap_row(previous[1], row, gap_frame.index, gap_frame.time, fill))
                        gap_rows[:] = kept
            last_seen[row["track"]] = (frame.index, row)
        buffer.append((frame, rows))
        if len(buffer) > max_gap + 1:
            yield _finished(*buffer.popleft())
    while buffer:
        yield _finished(*buffer.popleft())


def _finished(frame, rows: list[dict]) -> tuple[object, list[dict]]:
    """Rows ordered by track, each with the frame's count of faces found and its cut flag."""
    faces = sum(1 for row in rows if row["success"])
    cut = any(row.get("cut", False) for row in rows)
    return frame, [{**row, "faces": faces, "cut": cut} for row in sorted(rows, key=lambda row: row["track"])]


def usable(table: pd.DataFrame) -> pd.Series:
    """Rows with a face to crop: successful or filled."""
    return (table.track != NO_FACE) & (table.success | table.filled)


def main_track(table: pd.DataFrame) -> int:
    """The track with the most successful frames (``NO_FACE`` when there is none)."""
    counts = table[(table.track != NO_FACE) & table.success].track.value_counts()
    return int(counts.idxmax()) if len(counts) else NO_FACE


def face_fraction(table: pd.DataFrame, track: int | None = None) -> float:
    """Share of the video's frames in which ``track`` (default: any face) is present."""
    frames = table.frame.nunique()
    present = table[usable(table)] if track is None else table[usable(table) & (table.track == track)]
    return present.frame.nunique() / frames if frames else 0.0


def frame_counts(table: pd.DataFrame) -> dict:
    """Per-video counts FERV39k's candidate rules use: frames with 0, 1 and several faces, the
    face size range, and identity changes (consecutive single-face frames whose track differs)."""
    faces = table[(table.track != NO_FACE) & table.success]
    per_frame = faces.groupby("frame").size().reindex(sorted(table.frame.unique()), fill_value=0)
    single = faces[faces.frame.map(per_frame) == 1].sort_values("frame")
    changes = int((single.track.diff().fillna(0) != 0).sum())
    return {
        "frames_without_face": int((per_frame == 0).sum()),
        "frames_with_one_face": int((per_frame == 1).sum()),
        "frames_with_several_faces": int((per_frame > 1).sum()),
        "max_faces": int(per_frame.max()) if len(per_frame) else 0,
        "min_face_size": float(faces.face_size.min()) if len(faces) else float("nan"),
        "median_face_size": float(faces.face_size.median()) if len(faces) else float("nan"),
        "tracks": int(faces.track.nunique()),
        "identity_changes": changes,
        "shot_cuts": int(table.drop_duplicates("frame").cut.sum()) if "cut" in table else 0,
    }
