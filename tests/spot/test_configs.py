"""The shipped spotting configs: one per SDFE-LV Table 3 row, each naming commands that exist."""

import re
from pathlib import Path

from dfer.models.zoo import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs" / "spot").glob("*.yaml"))

#: SDFE-LV Table 3, row by row (localizer · feature extractor).
TABLE_3 = {
    "rc3d_c3d", "turn_c3d", "bsn_c3d", "bmn_c3d", "bmn_r3d", "bmn_r2plus1d", "bmn_resnet18_lstm", "bmn_resnet50_lstm",
    "bmn_resnet101_lstm", "bmn_vgg13_lstm", "bmn_vgg16_lstm", "bmn_vgg19_lstm", "bmn_two_resnet50_lstm",
    "bmn_two_vgg19_lstm", "bmn_two_c3d", "bmn_two_tsn",
}


def test_every_table_3_row_has_a_config():
    assert TABLE_3 <= {path.stem for path in CONFIGS}


def test_the_commands_in_the_headers_name_configs_and_models_that_exist():
    for path in CONFIGS:
        header = "".join(line for line in path.read_text().splitlines(keepends=True) if line.startswith("#"))
        for config in re.findall(r"dfer train (\S+\.yaml)", header):
            assert (ROOT / config).is_file(), f"{path.name} names {config}"
        for model in re.findall(r"model\.name=(\w+)", header):
            assert model in MODELS, f"{path.name} names model {model}"
        two_stream = "two_" in path.stem and path.stem != "bmn_two_tsn"
        assert ("--scenes" in header) == two_stream, f"{path.name}: scene frames for face + scene extractors only"
