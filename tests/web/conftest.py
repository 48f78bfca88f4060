"""A small planned annotation project served by the web app, shared by the web tests."""

import pandas as pd
import pytest

from dfer.curation.annotation import PlanOptions, plan
from dfer.web.app import create_app
from dfer.web.store import issue_tokens

from tests.conftest import SHARED

CLIP = SHARED / "videos" / "single_face.mp4"


def planned(tmp_path, crowd: int = 3, clips_count: int = 12):
    """A planned project (``clips_count`` clips, 2 gold, one group copied 3 times to ``crowd`` crowd
    workers, a professional): (app, database, tasks, tokens, media)."""
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    names = [f"clip_{i:02d}" for i in range(clips_count)]
    clips = pd.DataFrame({"clip_id": names, "path": [f"clips/{name}.mp4" for name in names], "scene": "Talkshow",
                          "gold": ["happy", "sad"] + [""] * (clips_count - 2)})
    for path in clips.path:
        (media / path).write_bytes(CLIP.read_bytes())
    workers = pd.DataFrame({"worker_id": [f"w{i}" for i in range(crowd)] + ["pro"],
                            "role": ["crowd"] * crowd + ["professional"]})
    database = tmp_path / "annotation.sqlite"
    tasks = plan(database, clips, workers, PlanOptions(group_size=clips_count, gold_share=0.1, copies=3, seed=0))
    tokens = {t["worker_id"] or "admin": t["token"] for t in issue_tokens(database)}
    app = create_app(database, media)
    return app, database, tasks, tokens, media


@pytest.fixture()
def served(tmp_path):
    """:func:`planned` with 3 crowd workers: each has the group's one copy."""
    return planned(tmp_path)


@pytest.fixture(scope="session")
def long_videos(tmp_path_factory):
    """Two synthetic long videos (dfer synth --format long) with their dfer-long-video file."""
    from dfer.data.synth_long import write_long

    root = tmp_path_factory.mktemp("long")
    write_long(root, 2, seed=0, size=32, progress=False, seconds=(6.0, 8.0), videos_per_subject=1)
    return root


@pytest.fixture()
def marking_project(tmp_path, long_videos):
    """The two videos planned for marking by 5 annotators each; (app, database, markings, tokens, media)."""
    from dfer.web.marking import plan_marking

    media = tmp_path / "media"
    database = tmp_path / "annotation.sqlite"
    created = plan_marking(database, long_videos / "annotations.json", long_videos / "videos",
                           [f"m{i}" for i in range(6)], media, per_video=5, progress=False)
    tokens = {t["worker_id"] or "admin": t["token"] for t in issue_tokens(database)}
    return create_app(database, media), database, pd.DataFrame(created), tokens, media
