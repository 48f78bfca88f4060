"""``dfer annotate tokens`` and ``dfer annotate serve`` from the command line."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pandas as pd

from tests.conftest import run_cli


def test_tokens_print_one_link_each_and_serve_answers_on_127_0_0_1(served, tmp_path):
    _, database, _, _, media = served
    result = run_cli("annotate", "tokens", "--db", database, "--base-url", "http://127.0.0.1:8765/",
                     "--out", tmp_path / "links.csv")
    assert result.returncode == 0, result.stderr
    links = pd.read_csv(tmp_path / "links.csv", keep_default_na=False)
    roles = dict(zip(links.worker_id, links.role))
    assert roles == {"pro": "professional", "w0": "crowd", "w1": "crowd", "w2": "crowd", "": "admin"}
    assert all(link.startswith("http://127.0.0.1:8765/login/") and link in result.stdout for link in links.link)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dfer.cli", "annotate", "serve", "--db", str(database),
                               "--media", str(media), "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/static/style.css", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        link = links.set_index("worker_id").link["w0"].replace("http://127.0.0.1:8765", base)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        assert "Clips for w0" in opener.open(link).read().decode()
        try:
            urllib.request.urlopen(f"{base}/")
            raise AssertionError("a request without a session got in")
        except urllib.error.HTTPError as error:
            assert error.code == 401
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert f"Uvicorn running on http://127.0.0.1:{port}" in server.stderr.read()


def test_serve_refuses_a_missing_media_folder_or_database(served, tmp_path):
    _, database, _, _, _ = served
    result = run_cli("annotate", "serve", "--db", database, "--media", tmp_path / "nowhere")
    assert result.returncode == 2 and "--media must be the folder holding the clips" in result.stderr
    result = run_cli("annotate", "serve", "--db", tmp_path / "none.sqlite", "--media", tmp_path)
    assert result.returncode == 2 and "no such annotation database" in result.stderr


def test_long_videos_are_planned_and_their_marks_exported_from_the_command_line(long_videos, tmp_path):
    import json

    workers = tmp_path / "workers.csv"
    pd.DataFrame({"worker_id": [f"m{i}" for i in range(5)]}).to_csv(workers, index=False)
    database, media = tmp_path / "db.sqlite", tmp_path / "media"
    result = run_cli("annotate", "long", "--db", database, "--annotations", long_videos / "annotations.json",
                     "--videos", long_videos / "videos", "--workers", workers, "--media", media)
    assert result.returncode == 0 and "10 markings of 2 videos for 5 annotators" in result.stdout, result.stderr
    assert len(list((media / "long").glob("*.mp4"))) == 2
    result = run_cli("annotate", "marks", "--db", database, "--out", tmp_path / "marks.json", "--all")
    assert result.returncode == 0, result.stderr
    videos = json.loads((tmp_path / "marks.json").read_text())["videos"]
    assert all(sorted(v["annotators"]) == [f"m{i}" for i in range(5)] for v in videos.values())
    pd.DataFrame({"name": ["x"]}).to_csv(workers, index=False)
    result = run_cli("annotate", "long", "--db", database, "--annotations", long_videos / "annotations.json",
                     "--videos", long_videos / "videos", "--workers", workers, "--media", media)
    assert result.returncode == 2 and "expected a worker_id column" in result.stderr
