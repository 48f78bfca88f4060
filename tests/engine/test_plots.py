"""Run figures: t-SNE survives a collapsed model."""

import numpy as np
import pytest

from dfer.engine.plots import plot_tsne


@pytest.mark.parametrize("features", [np.ones((16, 32)), np.full((16, 32), np.nan)])
def test_tsne_of_identical_or_broken_features_is_a_note_not_a_crash(tmp_path, features):
    plot_tsne(features, np.arange(16) % 7, tmp_path / "tsne.png")  # scikit-learn's t-SNE segfaults on these
    assert (tmp_path / "tsne.png").read_bytes()[:4] == b"\x89PNG"


def test_tsne_of_real_features(tmp_path):
    rng = np.random.default_rng(0)
    plot_tsne(rng.normal(size=(20, 8)), np.arange(20) % 7, tmp_path / "tsne.png")
    assert (tmp_path / "tsne.png").stat().st_size > 5000
