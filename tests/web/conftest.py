"""A small planned annotation project served by the web app, shared by the web tests."""

import pandas as pd
import pytest

from dfer.curation.annotation import PlanOptions, plan
from dfer.web.app import create_app
from dfer.web.store import issue_tokens

from tests.conftest import SHARED

CLIP = SHARED / "videos" / "single_face.mp4"


@pytest.fixture()
def served(tmp_path):
    """A planned project (12 clips, 2 gold, 3 crowd workers, one copy each), its media folder, tokens."""
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    names = [f"clip_{i:02d}" for i in range(12)]
    clips = pd.DataFrame({"clip_id": names, "path": [f"clips/{name}.mp4" for name in names], "scene": "Talkshow",
                          "gold": ["happy", "sad"] + [""] * 10})
    for path in clips.path:
        (media / path).write_bytes(CLIP.read_bytes())
    workers = pd.DataFrame({"worker_id": ["w0", "w1", "w2", "pro"], "role": ["crowd"] * 3 + ["professional"]})
    database = tmp_path / "annotation.sqlite"
    tasks = plan(database, clips, workers, PlanOptions(group_size=12, gold_share=0.1, copies=3, seed=0))
    tokens = {t["worker_id"] or "admin": t["token"] for t in issue_tokens(database)}
    app = create_app(database, media)
    return app, database, tasks, tokens, media
