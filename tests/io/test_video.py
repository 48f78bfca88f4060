"""Streaming decoding: timestamps, rotation, odd sizes, and a clear error for each bad file."""

import numpy as np
import pytest

from dfer.io.video import VideoError, iter_frames, probe

from tests.conftest import SHARED, make_video, write_bad_videos

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


def test_frames_come_in_order_with_their_times():
    frames = list(iter_frames(SHARED / "videos" / "single_face.mp4"))
    assert [f.index for f in frames] == list(range(72))
    assert frames[0].image.shape == (360, 640, 3) and frames[0].image.dtype == np.uint8
    assert np.allclose([f.time for f in frames], np.arange(72) / 30, atol=1e-3)


def test_variable_frame_rate_keeps_each_frame_time(tmp_path):
    pts = [0, 100, 150, 400, 410]  # milliseconds, irregular
    path = make_video(tmp_path / "vfr.mkv", [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(5)],
                      codec="mjpeg", pts=pts, time_base="1/1000")
    assert [round(f.time, 3) for f in iter_frames(path)] == [p / 1000 for p in pts]


@pytest.mark.parametrize("rotation, red_at", [(90, "bottom"), (-90, "top"), (180, "right")])
def test_rotation_metadata_makes_frames_upright(tmp_path, rotation, red_at):
    image = np.zeros((32, 64, 3), np.uint8)
    image[:, :32, 0] = 255  # red on the left as coded
    path = make_video(tmp_path / "rotated.mp4", [image] * 3, rotation=rotation)
    info = probe(path)
    frame = next(iter_frames(path)).image
    assert (info.width, info.height) == frame.shape[1::-1]
    red = frame[..., 0] > 128
    halves = {"top": red[: red.shape[0] // 2], "bottom": red[red.shape[0] // 2:],
              "left": red[:, : red.shape[1] // 2], "right": red[:, red.shape[1] // 2:]}
    assert halves[red_at].mean() > 0.9


def test_odd_frame_sizes(tmp_path):
    path = make_video(tmp_path / "odd.mov", [np.full((21, 33, 3), 9, np.uint8)] * 2, codec="png")
    assert [f.image.shape for f in iter_frames(path)] == [(21, 33, 3)] * 2


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return write_bad_videos(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind, message", [
    ("empty", "empty file"), ("text", "not a readable video"), ("zero_frames", "has no frames"),
    ("audio_only", "no video stream (streams: audio)"), ("too_large", "larger than the limit"),
])
def test_bad_files_fail_at_probe_naming_the_file(bad, kind, message):
    with pytest.raises(VideoError) as error:
        probe(bad[kind])
    assert str(bad[kind]) in str(error.value) and message in str(error.value)


def test_a_missing_file():
    with pytest.raises(VideoError, match="no such file"):
        probe("/nonexistent/video.mp4")


def test_frames_are_packed_arrays_whatever_the_width(tmp_path):
    """PyAV pads rows to an aligned line size (at 504 px wide among others); dlib's embedder
    refuses such views, so frames come out C-contiguous."""
    frames = [np.full((336, 504, 3), value, np.uint8) for value in (10, 200)]
    path = make_video(tmp_path / "wide.mp4", frames, size=(336, 504))
    decoded = [frame.image for frame in iter_frames(path)]
    assert len(decoded) == 2 and all(image.flags.c_contiguous and image.shape == (336, 504, 3) for image in decoded)


def test_incomplete_by_frame_count_or_by_time():
    from dfer.io.video import VideoInfo, incomplete

    declared = VideoInfo("v.mp4", 64, 48, 30.0, 72, 2.4, 0, "h264")
    assert incomplete(declared, 72, 2.37) == "" and incomplete(declared, 69, 2.27) == ""  # within 5%
    assert incomplete(declared, 25, 0.8) == "truncated: decoded 25 of the 72 frames the container declares"
    timed = VideoInfo("v.mkv", 64, 48, 25.0, 0, 4.0, 0, "h264")  # a container that only knows its duration
    assert incomplete(timed, 100, 3.96) == ""
    assert incomplete(timed, 50, 1.96).startswith("truncated: decoded frames end at 1.96 s of the 4.00 s")


@pytest.mark.parametrize("name, container", [("clip.avi", "avi"), ("clip.mp4", "mov,mp4,m4a,3gp,3g2,mj2")])
def test_write_video_picks_the_container_from_the_suffix(tmp_path, name, container):
    import av

    from dfer.io.video import write_video

    frames = [np.full((32, 48, 3), 20 * i, np.uint8) for i in range(6)]
    assert write_video(tmp_path / name, frames, fps=10) == 6
    with av.open(str(tmp_path / name)) as opened:
        assert opened.format.name == container
    assert len(list(iter_frames(tmp_path / name))) == 6
