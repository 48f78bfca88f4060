import re
from pathlib import Path

import pytest

from dfer.engine.config import ConfigError, load_config, to_dict

#: Training configs (configs/spot holds spotting runs: tests/spot/test_bmn.py builds those).
CONFIGS = sorted(p for p in (Path(__file__).resolve().parents[2] / "configs").rglob("*.yaml") if p.parent.name != "spot")


def test_defaults_and_overrides():
    config = load_config(None, ["train.epochs=3", "optim.lr=1e-3", "data.sampler.options={k: 16}",
                                "data.size=[64, 64]", "loss.lam=null"])
    assert config.train.epochs == 3 and config.optim.lr == 0.001
    assert config.data.sampler.options == {"k": 16} and config.data.size == [64, 64]
    assert config.loss.lam is None
    assert to_dict(config)["train"]["epochs"] == 3


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", "unknown config key 'train.epoch' (did you mean train.epochs?)"),
    ("optim.name=sgdx", "optim.name: 'sgdx' is not one of sgd, adam, adamw"),
    ("train.epochs=many", "train.epochs: expected int, got 'many'"),
    ("schedule.name=step", "schedule.name: 'step' is not one of none, exponential, plateau, cosine"),
    ("data.size=112", "data.size: expected a list"),
    ("epochs", "is not of the form key=value"),
])
def test_typos_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, [override])


def test_yaml_file_errors(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 2\n  batchsize: 4\n")
    with pytest.raises(ConfigError, match="train.batchsize"):
        load_config(path)
    path.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


@pytest.mark.parametrize("path", CONFIGS, ids=[f"{p.parent.name}/{p.name}" for p in CONFIGS])
def test_every_shipped_config_loads_and_names_a_known_model(path):
    from dfer.models.zoo import MODELS

    config = load_config(path)
    assert config.model.name in MODELS
    assert config.name and config.data.root


def test_paper_rows_are_covered():
    names = {p.stem for p in CONFIGS if p.parent.name == "ferv39k"}
    assert len(names) == 18  # 16 Table 2 rows + the Table 3 cross-scenario run + Fig. 6 pretrained on DFEW
    assert len([p for p in CONFIGS if p.parent.name == "dfew"]) == 16  # Table 4/5 (x2) + Table 6 center loss
    assert len([p for p in CONFIGS if p.parent.name == "afew"]) == 3  # DFEW Table 7 transfer rows


def test_transfer_configs_start_from_what_the_source_configs_write():
    """A transfer config's model.pretrained is the best checkpoint its source config's run leaves."""
    from dfer.engine.protocols import run_dir

    written = set()
    for path in CONFIGS:
        config = load_config(path)
        folds = [f"fold_{fold}" for fold in config.folds] if config.protocol == "dfew_folds" else [""]
        written |= {str(run_dir(config) / fold / "checkpoints" / "best.pt").replace("//", "/") for fold in folds}
    transfers = [load_config(path) for path in CONFIGS if load_config(path).model.pretrained]
    local = [c for c in transfers if not c.model.pretrained.startswith("torchvision:")]
    assert len(local) == 3 and all(c.model.pretrained in written for c in local), [c.model.pretrained for c in local]


def test_ceflnet_configs_are_pretrained_and_use_eq_11():
    for path in CONFIGS:
        if path.parent.name == "ceflnet":
            config = load_config(path)
            assert config.model.pretrained == "torchvision:IMAGENET1K_V1" and config.loss.kind == "softmax_bce"
            header = path.read_text().split("\nname:")[0]
            assert "iterations 160" in header and "augmentation" in header and "pooling" in header


@pytest.mark.parametrize("override, message", [
    ("eval.clips=0", "eval.clips must be at least 1"),
    ("loss.center_alpha=1.5", "loss.center_alpha must be in (0, 1]"),
    ("optim.backbone_lr_mult=0", "optim.backbone_lr_mult must be positive"),
    ("loss.class_weights=inverse", "loss.class_weights: 'inverse' is not one of none, balanced"),
    ("train.sampler=weighted", "train.sampler: 'weighted' is not one of shuffle, class_balanced"),
])
def test_new_training_keys_are_checked(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, [override])


def test_a_key_given_twice_and_impossible_values_are_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("train:\n  epochs: 3\n  epochs: 5\n")
    with pytest.raises(ConfigError, match=r"twice\.yaml, line 3: not valid YAML \(key 'epochs' is given twice\)"):
        load_config(path)
    for override, message in (("train.epochs=0", "train.epochs must be at least 1, got 0"),
                              ("data.size=[-48, -48]", "data.size must be at least 1, got -48")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(None, [override])
