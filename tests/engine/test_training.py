"""The engine end to end on tiny synthetic runs: outputs, resume after a kill, typed errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
import yaml

from dfer.engine import checkpoint
from dfer.engine.config import load_config
from dfer.engine.protocols import run

TINY = ["data.format=ferv39k", "data.size=[32, 32]", "data.sampler.options={k: 4}", "data.workers=0",
        "model.name=resnet18_lstm", "model.options={hidden: 32}", "train.batch_size=8", "train.amp=false",
        "train.progress=false", "optim.name=adam", "optim.lr=0.001", "schedule.name=exponential"]


def tiny(root, out, *extra):
    return load_config(None, [*TINY, f"data.root={root}", f"out={out}", *extra])


def test_run_writes_every_output(synthetic, tmp_path):
    config = tiny(synthetic("ferv39k", clips=80), tmp_path, "name=r", "train.epochs=2")
    metrics = run(config)
    directory = tmp_path / "r"
    results = directory / "results"
    for name in ("metrics.json", "predictions.parquet", "predictions.csv", "confusion.csv", "confusion.png",
                 "per_scenario.csv", "per_scene.csv", "tsne.png"):
        assert (results / name).is_file(), name
    saved = json.loads((results / "metrics.json").read_text())
    assert saved["war"] == metrics["war"] and 0 <= saved["uar"] <= 1
    predictions = pd.read_parquet(results / "predictions.parquet")
    splits = pd.read_csv(directory / "splits.csv")
    assert set(predictions["clip_id"]) == set(splits.loc[splits["split"] == "test", "clip_id"])
    assert (predictions["label"] == predictions["prediction"]).mean() == pytest.approx(metrics["war"])
    log = pd.read_csv(directory / "log.csv")
    assert list(log["epoch"]) == [1, 2]
    assert saved["best_epoch"] == int(log.loc[log["val_war"].idxmax(), "epoch"])
    assert any((directory / "tensorboard").iterdir())


def config_file(tmp_path, root, *extra):
    """A YAML config holding the tiny settings, for the command line."""
    from dfer.engine.config import to_dict

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(to_dict(load_config(None, [*TINY, f"data.root={root}", *extra]))))
    return path


def test_killed_and_resumed_run_matches_uninterrupted(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "dfer.cli", "train", str(config_file(tmp_path, root)), "name=k", "train.epochs=2"]
    # both runs in fresh processes: bit-exact weights need the same torch state (threads, flags) in both,
    # which the test process's earlier tests may have changed
    straight = subprocess.run([*command, f"out={tmp_path / 'straight'}"], capture_output=True, text=True, env=env)
    assert straight.returncode == 0, straight.stdout + straight.stderr
    expected = checkpoint.load(tmp_path / "straight" / "k" / "checkpoints" / "last.pt")

    args = [*command, f"out={tmp_path / 'killed'}"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    last = tmp_path / "killed" / "k" / "checkpoints" / "last.pt"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill -9 once the first epoch's checkpoint is there
        if last.is_file() and checkpoint.load(last)["epoch"] >= 1:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.load(last)["epoch"] < 2, "the run finished before it could be killed"

    resumed = subprocess.run([*args, "--resume"], capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout
    final = checkpoint.load(last)
    assert final["epoch"] == 2
    for key, value in expected["model"].items():
        torch.testing.assert_close(final["model"][key], value, rtol=0, atol=0, msg=key)
    assert final["history"][-1]["val_war"] == expected["history"][-1]["val_war"]
    log = pd.read_csv(tmp_path / "killed" / "k" / "log.csv")
    assert list(log["epoch"]) == [1, 2]


def test_checkpoint_from_another_model_is_refused(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    run(tiny(root, tmp_path, "name=a", "train.epochs=1"))
    weights = tmp_path / "a" / "checkpoints" / "best.pt"
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "evaluate", str(config_file(tmp_path, root)),
                             "model.name=resnet18", "model.options={num_frames: 4}", "--checkpoint", str(weights)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "checkpoint is for model 'resnet18_lstm', not 'resnet18'" in result.stderr


def test_dataset_root_of_another_format(synthetic, tmp_path):
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "train", str(config_file(tmp_path, synthetic("dfew")))],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "the config says data.format=ferv39k, but this looks like dfew" in result.stderr


def test_a_run_of_the_same_name_is_refused_resumed_only_as_it_was_or_replaced(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    run(tiny(root, tmp_path, "name=same", "train.epochs=1"))
    first = (tmp_path / "same" / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(ValueError, match=r"same already holds a run; continue it with --resume, replace it with --force"):
        run(tiny(root, tmp_path, "name=same", "train.epochs=1"))
    assert (tmp_path / "same" / "checkpoints" / "last.pt").read_bytes() == first  # nothing overwritten
    with pytest.raises(ValueError, match=r"other settings \(optim\.lr: 0\.001 → 0\.01\)"):
        run(tiny(root, tmp_path, "name=same", "train.epochs=1", "optim.lr=0.01"), resume=True)
    with pytest.raises(ValueError, match=r"train\.epochs: 1 → 2"):
        run(tiny(root, tmp_path, "name=same", "train.epochs=2"), resume=True)
    run(tiny(root, tmp_path, "name=same", "train.epochs=1", "data.workers=1"), resume=True)  # a safe change
    assert yaml.safe_load((tmp_path / "same" / "config.yaml").read_text())["data"]["workers"] == 0  # as it began
    run(tiny(root, tmp_path, "name=same", "train.epochs=1", "optim.lr=0.01"), force=True)
    assert yaml.safe_load((tmp_path / "same" / "config.yaml").read_text())["optim"]["lr"] == 0.01


def test_the_log_shows_the_rate_each_epoch_trained_with(synthetic, tmp_path):
    run(tiny(synthetic("ferv39k", clips=80), tmp_path, "name=lr", "train.epochs=1", "schedule.name=cosine"))
    assert pd.read_csv(tmp_path / "lr" / "log.csv")["lr"].tolist() == [0.001]  # not the 0.0 the schedule ends at


def test_evaluate_takes_overrides_after_the_checkpoint_and_warns_of_another_input_size(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=80)
    run(tiny(root, tmp_path, "name=e", "train.epochs=1"))
    result = subprocess.run([sys.executable, "-m", "dfer.cli", "evaluate", str(config_file(tmp_path, root)),
                             "--checkpoint", str(tmp_path / "e" / "checkpoints" / "best.pt"), "data.size=[40, 40]",
                             f"out={tmp_path}", "name=e"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning: the checkpoint was trained with data.size [32, 32], this evaluation uses [40, 40]" in result.stderr


def test_seeds_give_one_run_each_and_mean_and_std(synthetic, tmp_path):
    root = synthetic("ferv39k", clips=40)
    config = tiny(root, tmp_path, "name=s", "train.epochs=1", "train.max_steps_per_epoch=2", "eval.clips=3")
    summary = run(config, seeds=[0, 1])
    per_seed = [json.loads((tmp_path / "s" / f"seed_{seed}" / "results" / "metrics.json").read_text()) for seed in (0, 1)]
    assert [m["eval_clips"] for m in per_seed] == [3, 3] and all(0 <= m["single_clip"]["war"] <= 1 for m in per_seed)
    wars = [m["war"] for m in per_seed]
    assert summary["war"]["values"] == wars and summary["war"]["mean"] == pytest.approx(sum(wars) / 2)
    assert summary["war"]["std"] == pytest.approx(abs(wars[0] - wars[1]) / 2 ** 0.5)
    assert summary["single_clip.uar"]["values"] == [m["single_clip"]["uar"] for m in per_seed]
    assert json.loads((tmp_path / "s" / "results" / "seeds.json").read_text()) == summary
    saved = [yaml.safe_load((tmp_path / "s" / f"seed_{seed}" / "config.yaml").read_text()) for seed in (0, 1)]
    assert [c["seed"] for c in saved] == [0, 1]


@pytest.mark.parametrize("format", ["afew", "mafw"])
def test_the_datasets_next_to_dfew_train(synthetic, tmp_path, format, capsys):
    config = tiny(synthetic(format, clips=70), tmp_path, f"data.format={format}", "name=n", "train.epochs=1",
                  "train.max_steps_per_epoch=2", "data.fold=1")
    metrics = run(config)
    predictions = pd.read_parquet(tmp_path / "n" / "results" / "predictions.parquet")
    assert metrics["clips"] == len(predictions) > 0 and predictions["label"].between(0, 6).all()
    if format == "mafw":  # MAFW's 4 classes of its own are left out, and the run says so
        assert "left out" in capsys.readouterr().out


def test_balanced_sampler_class_weights_and_soft_targets_train_on_dfew(synthetic, tmp_path):
    from dfer.engine.trainer import Trainer

    config = tiny(synthetic("dfew", clips=70), tmp_path, "data.format=dfew", "data.source=clip_224x224_16f",
                  "name=b", "train.epochs=1", "train.max_steps_per_epoch=2", "train.sampler=class_balanced",
                  "loss.class_weights=balanced", "loss.soft_targets=true")
    trainer = Trainer(config, tmp_path / "b")
    batch = next(iter(trainer.train_loader))
    assert batch["target"].shape == (8, 7) and torch.allclose(batch["target"].sum(1), torch.ones(8))
    counts = trainer.table[trainer.table["split"] == "train"]["label"].value_counts()
    weights = trainer.loss.class_weights
    assert weights[counts.idxmax()] < weights[counts.idxmin()]  # the rarest class weighs most
    assert type(trainer.train_sampler).__name__ == "ClassBalancedSampler"
    assert run(config)["clips"] > 0


def test_mafw_trains_on_its_own_11_classes(synthetic, tmp_path):
    from dfer import labels
    from dfer.engine.data import load_clips
    from dfer.engine.evaluate import evaluate_split
    from dfer.engine.inference import VideoModel, load_checkpoint

    config = tiny(synthetic("mafw", clips=70), tmp_path, "data.format=mafw", "data.classes=all", "name=m",
                  "train.epochs=1", "train.max_steps_per_epoch=2", "data.fold=1")
    metrics = run(config)
    best = tmp_path / "m" / "checkpoints" / "best.pt"
    model, _, classes = load_checkpoint(best)
    assert classes == labels.MAFW_EXPRESSIONS and model.classifier.out_features == 11
    predictions = pd.read_csv(tmp_path / "m" / "results" / "predictions.csv")
    assert {f"p_{name}" for name in labels.MAFW_EXPRESSIONS} <= set(predictions.columns)
    assert predictions["label"].max() > 6  # MAFW's own classes (contempt …) are tested
    confusion = pd.read_csv(tmp_path / "m" / "results" / "confusion.csv", index_col=0)
    assert confusion.shape == (11, 11) and len(metrics["recall"]) == 11
    with pytest.raises(ValueError, match="11 classes of its own"):
        VideoModel.from_checkpoint(best)
    shared = tiny(synthetic("mafw", clips=70), tmp_path, "data.format=mafw", "data.fold=1")  # data.classes=shared
    with pytest.raises(ValueError, match="the checkpoint classifies 11 classes .* but the data's labels index 7"):
        evaluate_split(shared, load_clips(shared.data, 0), best)


def test_mafw_follows_the_5_fold_protocol(synthetic, tmp_path):
    config = tiny(synthetic("mafw", clips=70), tmp_path, "data.format=mafw", "data.classes=all", "name=f",
                  "protocol=dfew_folds", "folds=[1, 2]", "train.epochs=1", "train.max_steps_per_epoch=1")
    summary = run(config)
    assert set(summary["per_fold"]) == {1, 2} and 0 <= summary["pooled"]["uar"] <= 1
    folds = [pd.read_csv(tmp_path / "f" / f"fold_{fold}" / "splits.csv") for fold in (1, 2)]
    assert set(folds[0].loc[folds[0].split == "test", "clip_id"]).isdisjoint(folds[1].loc[folds[1].split == "test",
                                                                                           "clip_id"])


def test_every_run_writes_a_model_card(synthetic, tmp_path):
    from dfer.io.hashing import sha256

    metrics = run(tiny(synthetic("ferv39k", clips=40), tmp_path, "name=card", "train.epochs=1",
                       "train.max_steps_per_epoch=1"))
    text = (tmp_path / "card" / "MODEL_CARD.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["datasets"] == ["ferv39k"] and front["base_model"] == "none (trained from scratch)"
    assert {m["name"]: m["value"] for m in front["metrics"]} == {"WAR": round(metrics["war"], 4),
                                                                  "UAR": round(metrics["uar"], 4)}
    for section in ("## Description", "## Intended use", "## Out-of-scope use", "## Limitations and biases",
                    "## Training data and protocol", "## Procedure", "## Evaluation", "## How to use", "## Weights"):
        assert section in text, section
    assert sha256(tmp_path / "card" / "checkpoints" / "best.pt") in text and "22 scenes" in text
    assert "name: card" in text  # the config, as run
