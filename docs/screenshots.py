"""Screenshots of `dfer annotate serve` for the README: a small planned project served on 127.0.0.1,
opened in headless Chromium (Debian's package): one clip labelled by key, two intervals marked on a
synthetic long video, and the admin's dashboard.

    .venv/bin/python docs/screenshots.py        # writes docs/screenshots/*.png
"""

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import uvicorn
from playwright.sync_api import sync_playwright

from dfer.curation.annotation import PlanOptions, plan
from dfer.data.synth_long import write_long
from dfer.web.marking import plan_marking
from dfer.web.app import create_app
from dfer.web.store import issue_tokens

HERE = Path(__file__).parent
CLIP = HERE.parent.parent / "shared" / "fixtures" / "videos" / "single_face.mp4"


def main() -> None:
    out = HERE / "screenshots"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp) / "media"
        (media / "clips").mkdir(parents=True)
        names = [f"clip_{i:02d}" for i in range(12)]
        for name in names:
            shutil.copy(CLIP, media / "clips" / f"{name}.mp4")
        clips = pd.DataFrame({"clip_id": names, "path": [f"clips/{n}.mp4" for n in names], "scene": "Talkshow",
                              "gold": ["happy", "sad"] + [""] * 10})
        workers = pd.DataFrame({"worker_id": ["ana", "ben", "cai"], "role": "crowd"})
        database = Path(tmp) / "annotation.sqlite"
        plan(database, clips, workers, PlanOptions(group_size=12, gold_share=0.1, copies=3, seed=0))
        write_long(Path(tmp) / "long", 1, seed=0, size=32, progress=False, seconds=(12.0, 14.0))
        plan_marking(database, Path(tmp) / "long" / "annotations.json", Path(tmp) / "long" / "videos",
                     ["ana", "ben", "cai"], media, per_video=3, progress=False)
        issued = {t["worker_id"] or "admin": t["token"] for t in issue_tokens(database)}
        token = issued["ana"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(database, media), host="127.0.0.1", port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                                 args=["--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/login/{token}")
            page.screenshot(path=str(out / "sets.png"))
            page.click("text=set 1")
            page.wait_for_selector("body[data-ready='true']")
            page.wait_for_function("() => document.getElementById('clip').currentTime > 0.5")
            page.keyboard.press("m")
            page.wait_for_selector("body[data-saved='1']")
            page.wait_for_function("() => document.getElementById('clip').currentTime > 0.5")
            page.screenshot(path=str(out / "labelling.png"), full_page=True)
            page.goto(f"http://127.0.0.1:{port}/")
            page.click("text=video 1")
            page.wait_for_selector("body[data-ready='true']")
            for keys in (["Shift+ArrowRight"] * 3 + ["["] + ["Shift+ArrowRight"] * 2 + ["]", "4"],
                         ["Shift+ArrowRight"] * 3 + ["["] + ["ArrowRight"] * 12 + ["]", "6"]):
                for key in keys:
                    page.keyboard.press(key)
            page.wait_for_selector("body[data-saved='2']")
            page.keyboard.press("Shift+ArrowRight")
            page.screenshot(path=str(out / "marking.png"), full_page=True)
            admin = browser.new_page(viewport={"width": 1100, "height": 900})
            admin.goto(f"http://127.0.0.1:{port}/login/{issued['admin']}")
            admin.screenshot(path=str(out / "dashboard.png"), full_page=True)
            browser.close()
        server.should_exit = True
    print(f"wrote {', '.join(str(out / name) for name in ('sets.png', 'labelling.png', 'marking.png', 'dashboard.png'))}")


if __name__ == "__main__":
    main()
