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
    assert len(names) == 17  # 16 Table 2 rows + the Table 3 cross-scenario run
    assert len([p for p in CONFIGS if p.parent.name == "dfew"]) == 16  # Table 4/5 (x2) + Table 6 center loss


def test_a_key_given_twice_and_impossible_values_are_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("train:\n  epochs: 3\n  epochs: 5\n")
    with pytest.raises(ConfigError, match=r"twice\.yaml, line 3: not valid YAML \(key 'epochs' is given twice\)"):
        load_config(path)
    for override, message in (("train.epochs=0", "train.epochs must be at least 1, got 0"),
                              ("data.size=[-48, -48]", "data.size must be at least 1, got -48")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(None, [override])
