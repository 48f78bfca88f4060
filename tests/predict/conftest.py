"""Shared by the predict tests: the default model's cache, as if fetched."""

import shutil

import pytest

from tests.conftest import SHARED


@pytest.fixture()
def dfer_home(tmp_path, monkeypatch):
    """A cache folder holding the default model, as if fetched (no network needed)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(SHARED / "models" / "emotion_model.hdf5", home / "emotion_model.hdf5")
    monkeypatch.setenv("DFER_HOME", str(home))
    return home
