"""The DFEW fold protocol, the FERV39k cross-scenario matrix, CEFLNet outputs and a diverging run."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
import torch

from dfer.engine import checkpoint
from dfer.engine.config import load_config, to_dict
from dfer.engine.protocols import claim_run_folder, run
from dfer.engine.trainer import Trainer
from dfer.errors import TrainingError
from tests.engine.test_training import TINY


def test_dfew_folds_report_both_aggregates(synthetic, tmp_path):
    root = synthetic("dfew")
    config = load_config(None, [*TINY, "data.format=dfew", "data.source=clip_224x224_16f", f"data.root={root}",
                                f"out={tmp_path}", "name=d", "train.epochs=1", "protocol=dfew_folds", "folds=[1, 2]"])
    summary = run(config)
    saved = json.loads((tmp_path / "d" / "results" / "metrics.json").read_text())
    assert set(saved["per_fold"]) == {"1", "2"}
    assert {"pooled", "mean_of_folds"} <= set(saved)
    pooled = pd.read_csv(tmp_path / "d" / "results" / "predictions_all_folds.csv")
    assert (pooled["label"] == pooled["prediction"]).mean() == pytest.approx(saved["pooled"]["war"])
    assert saved["mean_of_folds"]["war"] == pytest.approx((summary["per_fold"][1]["war"] + summary["per_fold"][2]["war"]) / 2)
    for fold in (1, 2):
        splits = pd.read_csv(tmp_path / "d" / f"fold_{fold}" / "splits.csv", dtype={"clip_id": str})
        test_ids = set(splits.loc[splits["split"] == "test", "clip_id"])
        assert test_ids == set(pooled.loc[pooled["fold"] == fold, "clip_id"].astype(str).str.zfill(5))


def test_cli_folds_option(tmp_path):
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "train", "none.yaml", "--folds", "0-7"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "DFEW folds are 1 to 5" in result.stderr


def test_cross_scenario_matrix(synthetic, tmp_path):
    config = load_config(None, [*TINY, f"data.root={synthetic('ferv39k', clips=80)}", f"out={tmp_path}", "name=x",
                                "train.epochs=1", "protocol=cross_scenario"])
    run(config)
    matrix = pd.read_csv(tmp_path / "x" / "results" / "cross_scenario.csv", index_col=0)
    assert list(matrix.index) == ["DL", "WIS", "SIA", "AI"] and list(matrix.columns) == ["DL", "WIS", "SIA", "AI"]
    assert (tmp_path / "x" / "train_WIS" / "results" / "metrics.json").is_file()
    splits = pd.read_csv(tmp_path / "x" / "train_AI" / "splits.csv")
    table = pd.read_csv(tmp_path / "x" / "train_AI" / "results" / "predictions.csv")
    assert set(splits.loc[splits["split"] != "test", "clip_id"].str.split("/").str[0]) <= {"History", "Terror", "War", "Crisis"}
    assert set(table["scenario"]) == {"DL", "WIS", "SIA", "AI"}


def test_ceflnet_writes_activation_maps(synthetic, tmp_path):
    config = load_config(None, [*TINY, f"data.root={synthetic('ferv39k', clips=80)}", f"out={tmp_path}", "name=c",
                                "train.epochs=1", "model.name=ceflnet", "model.options={}",
                                "data.sampler.name=ceflnet", "data.sampler.options={}"])
    run(config)
    results = tmp_path / "c" / "results"
    assert (results / "activation_maps.png").is_file()
    predictions = pd.read_csv(results / "predictions.csv")
    assert predictions["located_clip"].between(0, 6).all()


def test_diverging_loss_stops_and_keeps_the_last_good_checkpoint(synthetic, tmp_path):
    config = load_config(None, [*TINY, f"data.root={synthetic('ferv39k', clips=80)}", f"out={tmp_path}", "name=n",
                                "train.epochs=1"])
    run(config)
    last = tmp_path / "n" / "checkpoints" / "last.pt"
    good = checkpoint.load(last)

    config.train.epochs = 3
    trainer = Trainer(config, tmp_path / "n")
    assert trainer.resume()
    original = trainer.loss.forward
    trainer.loss.forward = lambda outputs, labels, target: {**original(outputs, labels), "loss": torch.tensor(float("nan"))}
    with pytest.raises(TrainingError, match="loss became nan at epoch 2, step 1"):
        trainer.fit()
    kept = checkpoint.load(last)
    assert kept["epoch"] == 1
    for key, value in good["model"].items():
        assert torch.equal(kept["model"][key], value)


def test_a_run_recorded_before_a_key_existed_resumes_with_that_keys_default(tmp_path):
    config = load_config(None, ["data.root=somewhere"])
    record = to_dict(config)
    del record["eval"], record["loss"]["center_alpha"]  # a run of an older dfer
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(record))
    claim_run_folder(tmp_path, config, resume=True)  # the defaults are what it ran with
    with pytest.raises(ValueError, match="eval.clips: 1 → 3"):
        claim_run_folder(tmp_path, load_config(None, ["data.root=somewhere", "eval.clips=3"]), resume=True)
