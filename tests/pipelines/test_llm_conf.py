"""conf/ (Hydra groups) and params.yaml hold the same configuration."""

from __future__ import annotations

import yaml

from tests.conftest import ROOT
from tests.pipelines.conftest import GROUPS, tiny_params

DEFAULTS = {"data": "stdlib", "model": "small", "train": "default", "evaluate": "default"}


def group(name: str, choice: str) -> dict:
    return yaml.safe_load((ROOT / "conf" / name / f"{choice}.yaml").read_text())


def test_default_groups_are_the_sections_of_params_yaml():
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert list(params) == list(GROUPS)
    for name, choice in DEFAULTS.items():
        assert group(name, choice) == params[name], name


def test_tiny_groups_set_every_key_of_the_defaults():
    for name, choice in DEFAULTS.items():
        assert list(group(name, "tiny")) == list(group(name, choice)), name


def test_hydra_composes_params_yaml_and_the_tiny_setting():
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        default = OmegaConf.to_container(compose(config_name="config"))
        tiny = OmegaConf.to_container(
            compose(config_name="config", overrides=[f"{g}=tiny" for g in GROUPS])
        )
    assert default == yaml.safe_load((ROOT / "params.yaml").read_text())
    assert tiny == tiny_params()
