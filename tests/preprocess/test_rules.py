"""The papers' preprocessing rules on hand-made per-frame tables."""

import numpy as np
import pytest

from dfer.faces.track import Observation
from dfer.preprocess import rules
from dfer.preprocess.table import COLUMNS, NO_FACE, frame_rows, landmarks_of, make_frame_table


def observation(track, x, detected=True):
    landmarks = np.stack([np.full(68, x, np.float32), np.arange(68, dtype=np.float32)], axis=1)
    return Observation(track, (x, 0.0, x + 10.0, 10.0), landmarks, 1.0 if detected else np.nan, detected, np.nan)


def table_of(frames):
    """``frames``: per frame, a list of (track, x) faces."""
    rows = []
    for index, faces in enumerate(frames):
        rows += frame_rows("v", index, index / 10, [observation(t, x) for t, x in faces])
    return make_frame_table(rows)


def test_table_has_every_column_and_a_row_per_faceless_frame():
    table = table_of([[(0, 1.0)], [], [(0, 3.0), (1, 50.0)]])
    assert list(table.columns) == COLUMNS
    assert table.track.tolist() == [0, NO_FACE, 0, 1]
    assert table.faces.tolist() == [1, 0, 2, 2]
    assert landmarks_of(table.iloc[0])[5].tolist() == [1.0, 5.0]
    assert table.face_size.iloc[0] == pytest.approx(10.0)


class Frame:
    def __init__(self, index):
        self.index, self.time = index, index / 10


def completed(frames, max_gap, fill=False):
    """``frames`` (lists of (track, x)) through the gap-completion stream, as a table."""
    stream = ((Frame(i), frame_rows("v", i, i / 10, [observation(t, x) for t, x in faces]))
              for i, faces in enumerate(frames))
    out = list(rules.complete_gaps(stream, max_gap, fill))
    assert [frame.index for frame, _ in out] == list(range(len(frames)))  # every frame, in order
    return make_frame_table([row for _, rows in out for row in rows])


def test_short_gaps_become_failure_rows_and_long_ones_do_not():
    frames = [[(0, 0.0)], [], [], [(0, 6.0)], [], [], [], [], [(0, 9.0)]]
    table = completed(frames, max_gap=3)
    track0 = table[table.track == 0]
    assert track0.frame.tolist() == [0, 1, 2, 3, 8]
    assert track0.success.tolist() == [True, False, False, True, True]
    assert table[table.track == NO_FACE].frame.tolist() == [4, 5, 6, 7]
    assert table.frame.is_monotonic_increasing and not table.filled.any()
    assert table.faces.tolist() == [1, 0, 0, 1, 0, 0, 0, 0, 1]


def test_sdfe_lv_fill_averages_the_neighbouring_frames():
    table = completed([[(0, 0.0)], [], [], [(0, 6.0)]], max_gap=3, fill=True)
    filled = table[table.filled]
    assert filled.frame.tolist() == [1, 2]
    # the paper's rule: the mean of the nearest successful frames before and after (0 and 6 → 3)
    assert filled.x_0.tolist() == [3.0, 3.0] and filled.left.tolist() == [3.0, 3.0]
    assert not filled.success.any()
    assert rules.usable(table).sum() == 4


def test_gaps_of_one_track_leave_other_faces_alone():
    frames = [[(0, 0.0), (1, 50.0)], [(1, 50.0)], [(0, 2.0), (1, 50.0)]]
    table = completed(frames, max_gap=3, fill=True)
    assert table[table.frame == 1].track.tolist() == [0, 1]
    assert table[table.frame == 1].faces.tolist() == [1, 1]
    assert table[(table.frame == 1) & (table.track == 0)].x_0.item() == 1.0


def test_main_track_fraction_and_counts():
    frames = [[(0, 0.0)], [(0, 0.0), (1, 40.0)], [(1, 40.0)], [], [(2, 80.0)]]
    table = table_of(frames)
    assert rules.main_track(table) in (0, 1)
    assert rules.face_fraction(table) == pytest.approx(4 / 5)
    assert rules.face_fraction(table, 2) == pytest.approx(1 / 5)
    counts = rules.frame_counts(table)
    assert counts["frames_without_face"] == 1 and counts["frames_with_several_faces"] == 1
    assert counts["frames_with_one_face"] == 3 and counts["max_faces"] == 2 and counts["tracks"] == 3
    # single-face frames 0, 2, 4 carry tracks 0, 1, 2: two identity changes
    assert counts["identity_changes"] == 2
    assert counts["min_face_size"] == pytest.approx(10.0)


def test_no_face_at_all():
    table = table_of([[], []])
    assert rules.main_track(table) == NO_FACE and rules.face_fraction(table) == 0.0
    assert rules.frame_counts(table)["tracks"] == 0
