"""``dfer build candidates`` end to end on the real fixture videos."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from dfer import labels
from dfer.curation.candidates import CandidateOptions
from dfer.curation.pipeline import BuildOptions, FrameTables, build_candidates, read_raw_manifest
from dfer.curation.scoring import score_with_video_model
from dfer.cli import main
from dfer.errors import DatasetError
from dfer.io.video import probe
from dfer.predict import predict
from dfer.models.default import DefaultClassifier
from dfer.engine.inference import VideoModel

from tests.conftest import make_checkpoint

from tests.curation.conftest import OPTIONS, VIDEOS, WEIGHTS, write_manifest


def test_every_clip_has_its_decisions(built):
    _, out, summary = built
    videos = pd.read_csv(out / "videos.csv", keep_default_na=False)
    assert videos.set_index("video").reason["gone"].startswith("unreadable: no such file")
    assert videos.kept.sum() == 5
    clips = pd.read_csv(out / "clips.csv", keep_default_na=False)
    assert len(clips) == summary.clips and clips.clip_id.is_unique
    assert set(clips.stage) <= {"cut", "rules", "cap", "scored", "final"}
    assert (clips[~clips.kept].reason != "").all() and (clips[clips.kept].reason == "").all()
    assert (clips[clips.stage == "cut"].reason == clips[clips.stage == "cut"].rule).all()
    final = clips[clips.kept]
    assert len(final) == summary.final == 2 * 3  # keep × target
    assert not (final.video == "no_face").any()
    for video, cut in (("face_noface", 72), ("noface_face", 96)):  # the face/no-face changes
        assert not ((final.video == video) & (final.start_frame < cut) & (final.end_frame >= cut)).any()
    lengths = (clips.end_frame - clips.start_frame + 1) / clips.video.map(videos.set_index("video").fps)
    assert lengths.between(0.5 - 0.05, 4.0 + 0.05).all()


def test_candidate_files(built):
    _, out, _ = built
    candidates = pd.read_csv(out / "candidates.csv", keep_default_na=False)
    assert len(candidates) == 6 and set(candidates.scene) <= {"DailyLife", "Interview", "Talkshow"}
    for clip in candidates.itertuples():
        info = probe(clip.path)
        assert info.frames == clip.frames
        faces, scenes = sorted(os.listdir(clip.faces)), sorted(os.listdir(clip.scenes))
        assert faces == scenes and faces[0] == "0001.jpg" and len(faces) >= 0.9 * clip.frames
    for name in ("report.html", "report/stages.png", "report/scenes.png", "report/expressions.png",
                 "report/lengths.png", "summary.json", "build.json"):
        assert (out / name).is_file()
    stages = pd.read_csv(out / "report" / "stages.csv")
    assert stages.clips.is_monotonic_decreasing and stages.clips.iloc[-1] == 6


def test_scores_are_dfer_predicts_probabilities_over_the_clip(built):
    _, out, _ = built
    clips = pd.read_csv(out / "clips.csv", keep_default_na=False).set_index("clip_id")
    clip = clips.loc["single_face_000000"]
    frames = predict(VIDEOS / "single_face.mp4", DefaultClassifier(WEIGHTS)).frames
    inside = frames[(frames.frame >= clip.start_frame) & (frames.frame <= clip.end_frame) & (frames.track == 0)]
    expected = inside[list(labels.EXPRESSIONS)].mean()
    assert np.allclose(clip[list(labels.EXPRESSIONS)].astype(float), expected, atol=1e-5)
    assert clip.predicted == expected.idxmax() and int(clip.scored_frames) == len(inside)


def test_rerun_resumes_and_restores_a_lost_clip(built):
    manifest, out, _ = built
    candidates = pd.read_csv(out / "candidates.csv", keep_default_na=False)
    lost = candidates.iloc[0]
    before = {p: p.stat().st_mtime_ns for p in (out / "scores").iterdir()}
    kept_video = candidates.path.iloc[1]
    kept_mtime = os.stat(kept_video).st_mtime_ns
    os.remove(lost.path)
    shutil.rmtree(lost.faces)
    again = build_candidates(manifest, out, OPTIONS, workers=2, progress=False)
    assert again.final == 6 and os.path.isfile(lost.path) and len(os.listdir(lost.faces)) > 0
    assert {p: p.stat().st_mtime_ns for p in (out / "scores").iterdir()} == before  # not re-scored
    assert os.stat(kept_video).st_mtime_ns == kept_mtime  # finished clips untouched
    assert pd.read_csv(out / "candidates.csv", keep_default_na=False).equals(candidates)
    with pytest.raises(ValueError, match="other options"):
        build_candidates(manifest, out, BuildOptions(CandidateOptions(target=4), model=WEIGHTS), progress=False)


def test_a_checkpoint_scores_the_clips_aligned_crops(built, tmp_path):
    _, out, _ = built
    model = VideoModel.from_checkpoint(make_checkpoint(tmp_path, "ferv39k_two_stream"))
    clips = pd.read_csv(out / "clips.csv", keep_default_na=False)
    clips = clips[(clips.video == "WolfgangLanger_Pexels") & clips.stage.isin(["scored", "final"])]
    tables = FrameTables(out / "preprocess" / "tables", ["WolfgangLanger_Pexels"])
    scores = score_with_video_model(out / "preprocess" / "faces_224" / "WolfgangLanger_Pexels",
                                    out / "preprocess" / "scenes_336x504" / "WolfgangLanger_Pexels",
                                    tables["WolfgangLanger_Pexels"], clips, model)
    assert list(scores.clip_id) == list(clips.clip_id)
    assert np.allclose(scores[list(labels.EXPRESSIONS)].sum(axis=1), 1.0, atol=1e-5)
    assert (scores.scored_frames.to_numpy() == clips.scored_frames.astype(int).to_numpy()).all()


def test_build_with_a_checkpoint_from_the_command_line(tmp_path, capsys):
    manifest = write_manifest(tmp_path, [(VIDEOS / "single_face.mp4", "Interview", "pexels")])
    checkpoint = make_checkpoint(tmp_path, "ferv39k_2d")
    code = main(["build", "candidates", str(manifest), "--out", str(tmp_path / "out"), "--target", "1", "--keep", "1",
                 "--model", str(checkpoint), "--quiet"])
    assert code == 0 and "1 candidates" in capsys.readouterr().out
    clips = pd.read_csv(tmp_path / "out" / "clips.csv", keep_default_na=False)
    assert clips.kept.sum() == 1 and clips[clips.kept].predicted.iloc[0] in labels.EXPRESSIONS


def test_bad_manifests_name_the_row(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("path,scene\na.mp4,Interview\nb.mp4,\n")
    with pytest.raises(DatasetError, match="row 3.*empty scene"):
        read_raw_manifest(path)
    path.write_text("path,scene\nx/a.mp4,Interview\ny/a.mp4,Talkshow\n")
    with pytest.raises(DatasetError, match="row 3.*'a' also used in row 2"):
        read_raw_manifest(path)
    path.write_text("path\na.mp4\n")
    with pytest.raises(DatasetError, match="missing column"):
        read_raw_manifest(path)


def test_config_typos_are_named(tmp_path, capsys):
    manifest = write_manifest(tmp_path, [(VIDEOS / "single_face.mp4", "Interview", "pexels")])
    config = tmp_path / "build.yaml"
    config.write_text("candidates:\n  oversampel: 10\n")
    assert main(["build", "candidates", str(manifest), "--out", str(tmp_path / "out"), "--config", str(config)]) == 2
    assert "candidates.oversampel" in capsys.readouterr().err
    config.write_text("target_distribution: {happy: 2, joyful: 1}\n")
    assert main(["build", "candidates", str(manifest), "--out", str(tmp_path / "out"), "--config", str(config)]) == 2
    assert "unknown expression(s) ['joyful']" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_small_real_manifest_with_the_default_options(tmp_path):
    """The dataset builder's first command on the five fixtures in three scenes, default scene balance."""
    manifest = write_manifest(tmp_path, [
        (VIDEOS / "single_face.mp4", "Interview", ""), (VIDEOS / "face_noface.mov", "Interview", ""),
        (VIDEOS / "noface_face.mov", "Speech", ""), (VIDEOS / "no_face.mp4", "Crime", ""),
        (VIDEOS / "WolfgangLanger_Pexels.mp4", "Speech", "")])
    summary = build_candidates(manifest, tmp_path / "out", BuildOptions(CandidateOptions(target=3), model=WEIGHTS),
                               progress=False)
    assert summary.balanced == 3 and summary.final > 0  # one video per scene at least: not only no_face.mp4
    (tmp_path / "none").mkdir()
    nothing = write_manifest(tmp_path / "none", [(VIDEOS / "no_face.mp4", "Crime", "")])
    summary = build_candidates(nothing, tmp_path / "empty", BuildOptions(CandidateOptions(target=3), model=WEIGHTS),
                               progress=False)
    assert summary.final == 0 and "no candidates" in str(summary)
    assert (tmp_path / "empty" / "report.html").is_file() and (tmp_path / "empty" / "candidates.csv").is_file()
    reasons = pd.read_csv(tmp_path / "empty" / "clips.csv").rule.fillna("")
    assert len(reasons) and (reasons != "").all()  # each clip's rule says why it went
