"""Spotting really learns, through the pipeline a user runs: synthetic long videos → ``dfer
preprocess`` (SDFE-LV rules) → snippet features from a synthetic-trained extractor → BMN. Its test
AUC beats uniform sliding-window proposals by at least 15 points, and ``dfer spot predict`` on a
test video finds its episodes; BSN, TURN and R-C3D train and evaluate on the same features (a CI-sized
CPU run)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from dfer.cli import main
from dfer.data.synth import write_synthetic
from dfer.data.synth_long import write_long
from dfer.engine.config import load_config
from dfer.engine.protocols import run
from dfer.preprocess import options_from, preprocess
from dfer.metrics.temporal import frame_iou
from dfer.spot.features import extract_features

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2D ResNet-18 trained briefly on synthetic FERV39k; 16 synthetic long videos of 8 subjects
    (train 8, validation 4, test 4) preprocessed; features (16 frames every 4); BMN trained."""
    root = tmp_path_factory.mktemp("spot")
    write_synthetic(root / "ferv39k", "ferv39k", 200, seed=0, size=48, progress=False)
    config = load_config(CONFIGS / "synthetic" / "ferv39k_2d.yaml",
                         [f"data.root={root / 'ferv39k'}", f"out={root / 'extractor'}", "train.progress=false",
                          "train.epochs=5"])
    run(config)
    checkpoint = next((root / "extractor").rglob("best.pt"))
    write_long(root / "long", 16, seed=0, size=16, progress=False, seconds=(12.0, 20.0))
    summary = preprocess([root / "long" / "videos"], root / "preprocessed",
                         options_from("frames", "sdfe-lv", face_sizes=(112,), scene_sizes=()), workers=2, progress=False)
    assert summary.failed == 0
    extract_features(root / "preprocessed" / "faces_112", root / "features", checkpoint, stride=4, progress=False)
    out = root / "run"
    code = main(["spot", "train", str(CONFIGS / "spot" / "bmn_synthetic.yaml"), f"features={root / 'features'}",
                 f"annotations={root / 'long' / 'annotations.json'}", f"out={out}", "--quiet"])
    assert code == 0
    return root, out


def test_bmn_beats_sliding_windows_by_15_auc_points(trained, capsys):
    root, out = trained
    metrics = json.loads((out / "metrics_test.json").read_text())
    assert metrics["videos"] == 4 and (out / "proposals_test.json").is_file() and (out / "ar_an_test.png").is_file()
    assert metrics["auc"] >= metrics["sliding_windows"]["auc"] + 15, metrics
    capsys.readouterr()
    assert main(["spot", "evaluate", "--ground-truth", str(root / "long" / "annotations.json"), "--subset", "test",
                 "--proposals", str(out / "proposals_test.json"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)  # the same proposals judged against the annotation file
    assert again["auc"] > metrics["sliding_windows"]["auc"]


def test_spot_predict_finds_the_episodes_of_a_test_video(trained, tmp_path):
    root, out = trained
    annotations = json.loads((root / "long" / "annotations.json").read_text())["videos"]
    video = sorted(name for name, entry in annotations.items() if entry["split"] == "test")[0]
    assert main(["spot", "predict", str(root / "long" / "videos" / f"{video}.mp4"), "--model",
                 str(out / "checkpoints" / "best.pt"), "--out", str(tmp_path / "spots"), "--top", "5"]) == 0
    segments = pd.read_csv(tmp_path / "spots" / "segments.csv")
    frames = annotations[video]["frames"]
    assert segments["rank"].tolist() == list(range(1, len(segments) + 1)) and len(segments) == 5
    assert ((segments.onset_frame <= segments.offset_frame) & (segments.offset_frame < frames)).all()
    assert segments.score.is_monotonic_decreasing and segments.label.isin(
        ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]).all()
    episodes = pd.read_csv(root / "long" / "episodes.csv").query("video == @video")
    found = [frame_iou([s.onset_frame, s.offset_frame], episodes[["onset", "offset"]].to_numpy()).max()
             for s in segments.itertuples()]
    assert sum(iou >= 0.5 for iou in found) >= 2, (found, segments, episodes)
    for name in ("proposals.json", "timeline.png", "summary.json"):
        assert (tmp_path / "spots" / name).is_file()


@pytest.mark.parametrize("localizer, loss", [("bsn", "tem"), ("turn", "classification"), ("rc3d", "regression")])
def test_other_localizers_train_and_evaluate_end_to_end(trained, tmp_path, localizer, loss):
    root, _ = trained
    out = tmp_path / localizer
    assert main(["spot", "train", str(CONFIGS / "spot" / f"{localizer}_synthetic.yaml"), f"features={root / 'features'}",
                 f"annotations={root / 'long' / 'annotations.json'}", f"out={out}", "--quiet"]) == 0
    metrics = json.loads((out / "metrics_test.json").read_text())
    assert metrics["videos"] == 4 and 0 < metrics["auc"] <= 100 and metrics["proposals"] > 0
    log = pd.read_csv(out / "log.csv")
    assert len(log) == 20 and log[loss].iloc[-5:].mean() < log[loss].iloc[:5].mean()  # it learns something
