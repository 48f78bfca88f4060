"""Shared by the predict tests: the default model's cache, as if fetched."""

import os
import shutil

import pytest

from tests.conftest import SHARED


@pytest.fixture()
def dfer_home(tmp_path, monkeypatch, fetched_home):
    """A cache folder holding the default model and its ONNX file, as ``dfer assets fetch`` leaves it
    (no network needed)."""
    home = tmp_path / "home"
    shutil.copytree(fetched_home, home)
    monkeypatch.setenv("DFER_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def fetched_home(tmp_path_factory):
    """The default model and its ONNX file (made once per session) in a cache folder."""
    from dfer.models.default import onnx_model

    home = tmp_path_factory.mktemp("fetched")
    shutil.copy(SHARED / "models" / "emotion_model.hdf5", home / "emotion_model.hdf5")
    previous = os.environ.get("DFER_HOME")
    os.environ["DFER_HOME"] = str(home)  # the ONNX file goes to $DFER_HOME/derived
    try:
        onnx_model(home / "emotion_model.hdf5")
    finally:
        if previous is None:
            del os.environ["DFER_HOME"]
        else:
            os.environ["DFER_HOME"] = previous
    return home
