"""The labelling page in a real browser (the ``page`` fixture: headless Chromium driven by
Playwright, see ``tests/conftest.py``) against the real server on 127.0.0.1."""

import socket
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest


@contextmanager
def running(app):
    """``app`` on a free port of 127.0.0.1 in a uvicorn thread; yields its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not instance.started and time.time() < deadline:
        time.sleep(0.05)
    assert instance.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


@pytest.fixture()
def server(served):
    """The labelling project served; (base URL, database, tasks, tokens)."""
    app, database, tasks, tokens, _ = served
    with running(app) as base:
        yield base, database, tasks, tokens


@pytest.fixture()
def marking_server(marking_project):
    """The marking project served; (base URL, database, markings, tokens)."""
    app, database, created, tokens, _ = marking_project
    with running(app) as base:
        yield base, database, created, tokens


def stored_words(database, worker):
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT task_id, word FROM answers WHERE worker_id = ?", (worker,)).fetchall())


def test_an_annotator_opens_their_link_watches_the_clip_and_labels_it_by_key(server, page, tmp_path):
    base, database, tasks, tokens = server
    mine = tasks.loc[tasks.worker == "w0", "task"].tolist()
    page.goto(f"{base}/login/{tokens['w0']}")
    assert "Clips for w0" in page.content()
    page.click("text=set 1")
    page.wait_for_selector("body[data-ready='true']")
    # the clip plays: the browser decoded frames and time moves on
    page.wait_for_function("() => { const v = document.getElementById('clip'); return v.readyState >= 2 && "
                           "v.currentTime > 0.2; }", timeout=20_000)
    assert page.inner_text("#progress").startswith(f"clip 1 of {len(mine)}")
    page.keyboard.press("m")  # the 13th word of the vocabulary: joy
    page.wait_for_selector("body[data-saved='1']")
    page.keyboard.press("0")  # PASS, on the clip the page moved on to
    page.wait_for_selector("body[data-saved='2']")
    assert stored_words(database, "w0") == {mine[0]: "joy", mine[1]: "PASS"}
    page.keyboard.press("ArrowLeft")  # back to the second clip: its answer is shown
    assert page.inner_text("button.word.chosen") == "0 PASS"
    page.keyboard.press(".")  # one frame on: paused in the middle of a frame
    page.wait_for_function("() => document.getElementById('clip').paused")
    first = page.evaluate("() => document.getElementById('clip').currentTime * 25 - 0.5")
    page.keyboard.press(".")
    second = page.evaluate("() => document.getElementById('clip').currentTime * 25 - 0.5")
    assert abs(first - round(first)) < 1e-3 and round(second) == round(first) + 1
    page.screenshot(path=str(tmp_path / "labelling.png"))


def test_a_marker_steps_to_known_frames_and_the_stored_interval_is_exactly_them(marking_server, page):
    base, database, created, tokens = marking_server
    page.goto(f"{base}/login/{tokens['m0']}")
    page.click("text=video 1")
    page.wait_for_selector("body[data-ready='true']")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("[")
    page.keyboard.press("Shift+ArrowRight")  # one second: 25 frames
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("]")
    shown = page.evaluate("() => Math.floor(document.getElementById('video').currentTime * 25)")
    assert shown == 37 and "frame 37 of" in page.inner_text("#position")  # the video shows the counted frame
    page.keyboard.press("3")
    page.wait_for_selector("body[data-saved='1']")
    with sqlite3.connect(database) as connection:
        marks = connection.execute("SELECT onset, offset, category FROM marks").fetchall()
    assert marks == [(10, 37, 3)]
    assert page.locator("#timeline .segment").count() == 1 and page.locator("#marks tbody tr").count() == 1
    page.click("#marks tbody tr td >> nth=0")  # choose it, move its offset back 2 frames, save as 'happy'
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("]")
    page.keyboard.press("4")
    page.wait_for_selector("body[data-saved='2']")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT onset, offset, category FROM marks").fetchall() == [(10, 35, 4)]
