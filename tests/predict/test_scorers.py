"""``dfer predict --model CHECKPOINT``: sliding windows of a dfer video model over each track."""

import numpy as np
import pytest
import torch

from dfer import labels
from dfer.predict import predict

from tests.conftest import SHARED, make_checkpoint


@pytest.mark.parametrize("config_name", ["ferv39k_2d", "ferv39k_two_stream", "ferv39k_tsn", "ferv39k_ceflnet"])
def test_windows_cover_every_face_frame(tmp_path, config_name):
    result = predict(SHARED / "videos" / "single_face.mp4", make_checkpoint(tmp_path, config_name))
    assert len(result.frames) == 72 and result.tracks == [0]
    assert np.allclose(result.frames[list(labels.EXPRESSIONS)].sum(axis=1), 1.0, atol=1e-5)
    windows = result.windows
    assert len(windows) >= 1 and windows.start_frame.min() == 0 and windows.end_frame.max() == 71
    assert (windows.end_frame - windows.start_frame < 105).all()
    if config_name == "ferv39k_ceflnet":  # the located clip lies inside its window
        assert windows.located_start_frame.notna().all()
        assert ((windows.located_start_frame >= windows.start_frame)
                & (windows.located_end_frame <= windows.end_frame)).all()
    assert not result.segments.empty
    written = result.save(tmp_path / "out")
    assert written["windows"].is_file()


def test_a_checkpoint_for_no_dfer_model_is_refused(tmp_path):
    from dfer.errors import DatasetError

    path = tmp_path / "other.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(DatasetError, match="not a dfer training checkpoint"):
        predict(SHARED / "videos" / "single_face.mp4", path)
