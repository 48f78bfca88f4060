"""Shared by the dataset-construction tests: one candidate build on the real fixture videos."""

import pandas as pd
import pytest

from dfer.curation.candidates import CandidateOptions
from dfer.curation.pipeline import BuildOptions, build_candidates

from tests.conftest import SHARED

WEIGHTS = str(SHARED / "models" / "emotion_model.hdf5")
VIDEOS = SHARED / "videos"
OPTIONS = BuildOptions(CandidateOptions(target=3, scene_seconds=1000.0), model=WEIGHTS)


def write_manifest(folder, rows):
    path = folder / "raw.csv"
    pd.DataFrame(rows, columns=["path", "scene", "source"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """(manifest, out, summary) of ``build_candidates`` on the five fixtures and a missing file."""
    folder = tmp_path_factory.mktemp("build")
    manifest = write_manifest(folder, [
        (VIDEOS / "single_face.mp4", "DailyLife", "pexels"), (VIDEOS / "face_noface.mov", "DailyLife", "pexels"),
        (VIDEOS / "noface_face.mov", "Interview", "pexels"), (VIDEOS / "no_face.mp4", "Interview", "pexels"),
        (VIDEOS / "WolfgangLanger_Pexels.mp4", "Talkshow", "pexels"), (folder / "gone.mp4", "Talkshow", "web")])
    out = folder / "out"
    summary = build_candidates(manifest, out, OPTIONS, workers=2, progress=False)
    return manifest, out, summary
