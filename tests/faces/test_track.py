"""Tracker logic on scripted scenes (fake detector, landmarks and embeddings), then on real video."""

import numpy as np
import pytest

from dfer.errors import InputError
from dfer.faces.detect import Detection
from dfer.faces.track import FaceTracker, TrackerOptions, detection_factor

from tests.conftest import SHARED

_PATTERN = np.random.default_rng(0).uniform(0.2, 0.8, (68, 2)).astype(np.float32)
PEOPLE = {"A": np.eye(128, dtype=np.float32)[0], "B": np.eye(128, dtype=np.float32)[1]}


class Script:
    """Frame-by-frame faces: ``faces[frame]`` is a list of (box, person); grey level marks shots."""

    def __init__(self, faces, shots):
        self.faces, self.shots, self.frame = faces, shots, -1
        self.detector_calls = []

    def image(self, frame):
        self.frame = frame
        return np.full((90, 160, 3), self.shots[frame], np.uint8)

    def detector(self, image):
        self.detector_calls.append(self.frame)
        return [Detection(box, 2.0) for box, _ in self.faces[self.frame]]

    @staticmethod
    def landmarks(image, box):
        left, top, right, bottom = box
        return (_PATTERN * [right - left, bottom - top] + [left, top]).astype(np.float32)

    def embedder(self, image, landmarks):
        centre = landmarks.mean(axis=0)
        box, person = min(self.faces[self.frame],
                          key=lambda face: np.linalg.norm(np.add(face[0][:2], face[0][2:]) / 2 - centre))
        return PEOPLE[person]


def run(script, frames, **options):
    tracker = FaceTracker(TrackerOptions(**options), script.detector, script.landmarks, script.embedder)
    return [tracker.update(script.image(t)) for t in range(frames)], tracker


BOX = (40.0, 20.0, 80.0, 60.0)


def test_one_face_is_followed_between_scheduled_detections():
    script = Script({t: [(BOX, "A")] for t in range(20)}, {t: 50 for t in range(20)})
    observed, tracker = run(script, 20, detect_every=5)
    assert script.detector_calls == [0, 5, 10, 15]
    assert all(len(faces) == 1 and faces[0].track == 0 for faces in observed)
    assert [faces[0].detected for faces in observed[:6]] == [True, False, False, False, False, True]
    assert np.allclose(observed[3][0].box, BOX, atol=1e-3)


def test_a_cut_forces_detection_and_a_new_person_gets_a_new_track():
    faces = {t: [(BOX, "A" if t < 7 else "B")] for t in range(12)}
    script = Script(faces, {t: 50 if t < 7 else 200 for t in range(12)})
    observed, _ = run(script, 12, detect_every=5)
    assert 7 in script.detector_calls  # the cut, off the schedule
    assert [faces[0].track for faces in observed] == [0] * 7 + [1] * 5
    assert observed[7][0].identity_distance == 0.0  # a new person's first embedding


def test_a_person_who_returns_after_a_long_absence_keeps_their_track():
    faces = {t: [(BOX, "A")] if t < 5 or t >= 30 else [] for t in range(35)}
    shots = {t: 50 if t < 5 or t >= 30 else 120 for t in range(35)}  # away = another shot
    observed, tracker = run(Script(faces, shots), 35, detect_every=5, max_gap=3)
    assert all(not faces for faces in observed[5:30])
    assert [faces[0].track for faces in observed[30:]] == [0] * 5
    assert len(tracker.tracks) == 1


def test_two_people_keep_apart_and_a_missed_detection_leaves_a_gap():
    left, right = (10.0, 20.0, 50.0, 60.0), (100.0, 20.0, 140.0, 60.0)
    faces = {t: [(left, "A"), (right, "B")] for t in range(15)}
    faces[5] = [(left, "A")]  # B missed by the detector once (e.g. turned away)
    observed, _ = run(Script(faces, {t: 50 for t in range(15)}), 15, detect_every=5)
    assert [sorted(f.track for f in frame) for frame in observed[:5]] == [[0, 1]] * 5
    assert [[f.track for f in frame] for frame in observed[5:10]] == [[0]] * 5  # B unseen until re-detected
    assert sorted(f.track for f in observed[10]) == [0, 1]


def test_drift_triggers_a_detection():
    faces = {t: [((40.0 + 30 * (t >= 3), 20.0, 80.0 + 30 * (t >= 3), 60.0), "A")] for t in range(5)}
    script = Script(faces, {t: 50 for t in range(5)})

    def landmarks(image, box):  # the landmark fit jumps to the new place at frame 3
        return Script.landmarks(image, faces[script.frame][0][0])

    tracker = FaceTracker(TrackerOptions(detect_every=100), script.detector, landmarks, script.embedder)
    for t in range(5):
        tracker.update(script.image(t))
    assert script.detector_calls == [0, 3]


@pytest.mark.parametrize("height, width, detect_size, smallest, expected", [
    (360, 640, 720, None, 1.0),  # smaller than the working size: not shrunk
    (360, 640, 720, 214.0, 2.0),  # halved: the face stays 107 px ≥ 80
    (360, 640, 720, 159.0, 1.0),  # halving would leave it under 80 px
    (1080, 1920, 720, None, 1.5),  # to the working size
    (1920, 1080, 720, None, 1.5),  # portrait: the shorter side counts
    (1080, 1920, 720, 600.0, 6.0),  # 600 px / 6 = 100 ≥ 80; / 12 would not be
    (1080, 1920, 0, 600.0, 4.0),  # no working size: halved from full size
])
def test_detection_factor(height, width, detect_size, smallest, expected):
    assert detection_factor(height, width, detect_size, smallest, min_face=80.0) == pytest.approx(expected)


@pytest.mark.parametrize("detect_size, shapes", [(720, [(720, 1280)] + [(180, 320)] * 3),
                                                 (0, [(1080, 1920)] + [(270, 480)] * 3)])
def test_detections_run_on_a_shrunk_frame_and_boxes_come_back_in_frame_pixels(detect_size, shapes):
    box, seen = (600.0, 300.0, 1200.0, 900.0), []  # a 600 px face in a 1920 × 1080 frame

    def detector(image):  # finds the face where it is in the image it is given
        seen.append(image.shape[:2])
        return [Detection(tuple(v * image.shape[1] / 1920 for v in box), 2.0)]

    tracker = FaceTracker(TrackerOptions(detect_every=5, detect_size=detect_size), detector, Script.landmarks,
                          lambda image, landmarks: PEOPLE["A"])
    observed = [tracker.update(np.zeros((1080, 1920, 3), np.uint8)) for _ in range(20)]
    assert seen == shapes  # the first at the working size, the next three shrunk further (full_every=4)
    assert all(len(faces) == 1 and faces[0].track == 0 for faces in observed)
    assert np.allclose(observed[5][0].box, box) and np.allclose(observed[7][0].box, box, atol=1e-3)


def test_options_are_checked():
    with pytest.raises(ValueError, match="detect_every"):
        TrackerOptions(detect_every=0)


@pytest.mark.parametrize("name, expect", [("single_face.mp4", "all"), ("no_face.mp4", "none")])
def test_real_video(name, expect):
    from dfer.io.video import iter_frames

    tracker = FaceTracker(TrackerOptions(detect_every=5))
    observed = [tracker.update(frame.image) for frame in iter_frames(SHARED / "videos" / name)]
    with_face = [bool(faces) for faces in observed]
    if expect == "all":
        assert all(with_face) and {f.track for faces in observed for f in faces} == {0}
        assert tracker.detections_run < len(observed) / 3
    else:
        assert not any(with_face)


def test_a_working_size_too_small_for_faces_is_refused():
    with pytest.raises(InputError, match="detect_size must be 0 .full size. or at least 120 px, got 60"):
        TrackerOptions(detect_size=60)
    assert TrackerOptions(detect_size=0).detect_size == 0
