"""The default classifier's input: a levelled square around the face and light only where it is dark."""

import cv2
import numpy as np
import pytest

from dfer.faces.align import roll
from dfer.faces.track import FaceTracker, TrackerOptions, face_stream
from dfer.models.default import DARK, DefaultClassifier, box_crop, levelled_crop, lighten_dark

from tests.conftest import SHARED

pytestmark = pytest.mark.xdist_group(__name__)  # on one xdist worker: its module fixtures are built once


@pytest.fixture(scope="module")
def face():
    """The first frame of a real video with its tracked face."""
    frame, faces = next(iter(face_stream(SHARED / "videos" / "single_face.mp4", FaceTracker(TrackerOptions()))))
    return frame.image, faces[0]


def turned(image, landmarks, box, degrees):
    """The frame, landmarks and box turned by ``degrees`` about the box centre (OpenCV's sense)."""
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    height, width = image.shape[:2]
    return (cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT),
            landmarks @ matrix[:, :2].T + matrix[:, 2])


def test_a_rolled_head_is_levelled_back_to_the_upright_crop(face):
    image, observation = face
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    upright = box_crop(grey, observation.box).astype(float)
    rolled_image, rolled_landmarks = turned(image, observation.landmarks, observation.box, 30.0)
    rolled_grey = cv2.cvtColor(rolled_image, cv2.COLOR_RGB2GRAY)
    assert roll(rolled_landmarks) == pytest.approx(roll(observation.landmarks) - 30.0, abs=1e-6)
    plain = box_crop(rolled_grey, observation.box).astype(float)
    levelled = levelled_crop(rolled_grey, observation.box, roll(rolled_landmarks) - roll(observation.landmarks))
    assert np.abs(levelled - upright).mean() < 0.3 * np.abs(plain - upright).mean()


def test_without_roll_the_levelled_crop_is_the_box_crop(face):
    image, observation = face
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    difference = np.abs(levelled_crop(grey, observation.box, 0.0).astype(float) - box_crop(grey, observation.box))
    assert difference.mean() < 2.0  # the same square; only sub-pixel placement differs


def test_only_a_dark_face_is_equalised(face):
    image, observation = face
    crop = box_crop(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), observation.box)
    assert crop.mean() > DARK and np.array_equal(lighten_dark(crop), crop)
    dark = (crop * 0.2).astype(np.uint8)
    lightened = lighten_dark(dark)
    assert dark.mean() < DARK and lightened.std() > 2 * dark.std()


def test_the_classifier_crop_levels_by_the_roll_it_is_given(face):
    image, observation = face
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert np.array_equal(DefaultClassifier.crop(grey, observation.box), box_crop(grey, observation.box))
    assert np.array_equal(DefaultClassifier.crop(grey, observation.box, 20.0),
                          levelled_crop(grey, observation.box, 20.0))
