"""The report plays the video: the playhead moves, and a click on a segment seeks to its onset (in
headless Chromium, the ``page`` fixture)."""

from pathlib import Path

import pandas as pd

from tests.conftest import SHARED, run_cli

VIDEO = SHARED / "videos" / "WolfgangLanger_Pexels.mp4"  # three segments on one track


def test_clicking_a_segment_seeks_the_video_to_its_onset(dfer_home, tmp_path, page):
    result = run_cli("predict", VIDEO, "--out", tmp_path / "o", "--quiet")
    assert result.returncode == 0, result.stderr
    segments = pd.read_csv(tmp_path / "o" / "segments.csv")
    assert len(segments) >= 2
    page.goto((tmp_path / "o" / "report.html").as_uri())
    page.wait_for_function("() => document.getElementById('video').readyState >= 1")
    last = segments.iloc[-1]
    page.click(f"#lanes .segment >> nth={len(segments) - 1}")
    page.wait_for_function(f"() => Math.abs(document.getElementById('video').currentTime - {last.onset}) < 0.05")
    page.click("tr[data-onset] >> nth=1")  # the second segment's row in the table
    page.wait_for_function(f"() => Math.abs(document.getElementById('video').currentTime - "
                           f"{segments.iloc[1].onset}) < 0.05")
    page.evaluate("() => document.getElementById('video').play()")
    page.wait_for_function("() => parseFloat(document.getElementById('playhead').style.left) > 0")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_a_large_video_is_linked_and_an_annotated_one_is_played(dfer_home, tmp_path, monkeypatch):
    import os

    from dfer.models.default import DefaultClassifier
    from dfer.predict import predict, report

    result = run_cli("predict", VIDEO, "--out", tmp_path / "a", "--quiet", "--video-out")
    assert result.returncode == 0 and "src='annotated.mp4'" in (tmp_path / "a" / "report.html").read_text()
    predicted = predict(VIDEO, DefaultClassifier(dfer_home / "emotion_model.hdf5"))
    predicted.save(tmp_path / "small")
    assert "src='data:video/mp4;base64," in (tmp_path / "small" / "report.html").read_text()  # 1.6 MB: embedded
    monkeypatch.setattr(report, "EMBED_BYTES", 0)
    predicted.save(tmp_path / "large")
    linked = Path(os.path.relpath(VIDEO.resolve(), (tmp_path / "large").resolve())).as_posix()
    assert f"src='{linked}'" in (tmp_path / "large" / "report.html").read_text()
