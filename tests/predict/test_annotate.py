"""``dfer predict --video-out``: the annotated video, frame for frame, drawn where the faces are."""

import numpy as np

from dfer.io.frames import count_decoded_frames, read_video
from dfer.io.video import probe
from dfer.predict.annotate import write_annotated

from tests.conftest import SHARED, run_cli

VIDEO = SHARED / "videos" / "single_face.mp4"


def test_the_annotated_video_has_every_frame_and_draws_in_the_boxes(dfer_home, tmp_path):
    result = run_cli("predict", VIDEO, "--out", tmp_path / "o", "--video-out", "--quiet")
    assert result.returncode == 0, result.stderr
    annotated = tmp_path / "o" / "annotated.mp4"
    assert "annotated.mp4" in result.stdout
    assert count_decoded_frames(annotated) == count_decoded_frames(VIDEO)
    assert abs(probe(annotated).fps - probe(VIDEO).fps) < 1e-3
    import pandas as pd

    frames = pd.read_parquet(tmp_path / "o" / "frames.parquet")
    row = frames.iloc[len(frames) // 2]
    index = int(row.frame)
    source, drawn = read_video(VIDEO, [index])[index], read_video(annotated, [index])[index]
    left, top, right, bottom = (int(round(v)) for v in (row.left, row.top, row.right, row.bottom))
    edge = np.abs(drawn[top, left:right].astype(int) - source[top, left:right].astype(int)).mean()
    far = np.abs(drawn[:10, -10:].astype(int) - source[:10, -10:].astype(int)).mean()  # a corner without faces
    assert edge > 25 and far < 6  # the box is drawn; the rest is the video (up to re-encoding)


def test_a_frame_table_without_faces_copies_the_video(tmp_path):
    import pandas as pd

    from dfer.predict.result import FRAME_COLUMNS

    written = write_annotated(VIDEO, pd.DataFrame(columns=FRAME_COLUMNS), tmp_path / "plain.mp4")
    assert written == count_decoded_frames(VIDEO)
