"""The per-frame face table: one row per face per frame, one row per frame without a face.

Columns: ``video`` (the video's key), ``frame`` (index in decoding order), ``time`` (s),
``track`` (person id within the video; :data:`NO_FACE` on a frame without a face), ``faces``
(faces found in that frame), ``cut`` (a shot cut just before this frame), the box ``left, top, right, bottom`` and ``face_size`` (geometric
mean of its sides, pixels), ``score`` (detector score; NaN on tracked frames), ``detected``,
``success`` (a face was found in this frame), ``filled`` (box and landmarks filled from
neighbouring frames), ``identity_distance`` (embedding distance to the track's person; NaN where
not computed), and the 68 landmarks as ``x_0 … x_67``, ``y_0 … y_67`` (pixels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NO_FACE = -1
LANDMARK_COLUMNS = [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
BOX = ["left", "top", "right", "bottom"]
#: Columns a filled frame takes from its neighbours.
GEOMETRY = BOX + ["face_size"] + LANDMARK_COLUMNS
COLUMNS = (["video", "frame", "time", "track", "faces", "cut"] + BOX
           + ["face_size", "score", "detected", "success", "filled", "identity_distance"] + LANDMARK_COLUMNS)


def frame_rows(video: str, frame: int, time: float, observations, cut: bool = False) -> list[dict]:
    """Table rows for one frame's observations (see :class:`dfer.faces.track.Observation`)."""
    if not observations:
        return [{"video": video, "frame": frame, "time": time, "track": NO_FACE, "faces": 0, "cut": cut,
                 "success": False}]
    rows = []
    for observation in observations:
        left, top, right, bottom = observation.box
        row = {"video": video, "frame": frame, "time": time, "track": observation.track,
               "faces": len(observations), "cut": cut, "left": left, "top": top, "right": right, "bottom": bottom,
               "face_size": float(np.sqrt(max(right - left, 0) * max(bottom - top, 0))),
               "score": observation.score, "detected": observation.detected, "success": True,
               "filled": False, "identity_distance": observation.identity_distance}
        row.update(zip(LANDMARK_COLUMNS, np.concatenate([observation.landmarks[:, 0], observation.landmarks[:, 1]])))
        rows.append(row)
    return rows


def make_frame_table(rows: list[dict]) -> pd.DataFrame:
    """The table with every column in order and stable dtypes (floats NaN where absent)."""
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    for column in ("cut", "detected", "success", "filled"):
        table[column] = table[column].astype("boolean").fillna(False).astype(bool)
    for column in ("frame", "track", "faces"):
        table[column] = table[column].astype(np.int64)
    table["video"] = table["video"].astype(str)
    floats = [c for c in COLUMNS if c not in ("video", "frame", "track", "faces", "cut", "detected", "success", "filled")]
    table[floats] = table[floats].astype(np.float64)
    return table


def landmarks_of(row) -> np.ndarray:
    """The ``(68, 2)`` landmarks of one table row."""
    values = np.asarray([row[c] for c in LANDMARK_COLUMNS], np.float64)
    return np.stack([values[:68], values[68:]], axis=1)
