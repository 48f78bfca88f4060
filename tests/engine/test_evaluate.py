import numpy as np
import pytest

from dfer.engine.evaluate import average_views


def test_views_are_averaged_per_video():
    probabilities = np.array([[0.6, 0.4], [0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.8, 0.2], [0.1, 0.9]])
    raw = {"probabilities": probabilities, "prediction": probabilities.argmax(1), "label": np.array([1] * 3 + [0] * 3),
           "index": np.array([0, 0, 0, 1, 1, 1]), "clip_id": ["a"] * 3 + ["b"] * 3,
           "features": np.arange(12.0).reshape(6, 2), "located_clip": np.array([0, 1, 2, 3, 4, 5])}
    averaged = average_views(raw, 3)
    assert averaged["probabilities"] == pytest.approx(np.array([[0.3, 0.7], [0.6, 0.4]]))
    assert averaged["prediction"].tolist() == [1, 0] and averaged["label"].tolist() == [1, 0]
    assert averaged["clip_id"] == ["a", "b"] and averaged["index"].tolist() == [0, 1]
    assert averaged["features"].tolist() == [[2, 3], [8, 9]]
    assert averaged["located_clip"].tolist() == [1, 4]  # the middle view's
    assert average_views(raw, 1) is raw
    with pytest.raises(ValueError, match="consecutive"):
        average_views({**raw, "index": np.array([0, 1, 0, 1, 0, 1])}, 3)
