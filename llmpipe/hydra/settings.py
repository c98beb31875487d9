"""DVC's `[hydra]` settings of `.dvc/config`: enabled, config_dir, config_module, config_name."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..config import Config
from . import hydra_enabled

PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class HydraSettings:
    """Where the project's Hydra configs live; `config_dir` is absolute (None with a module)."""

    enabled: bool
    config_dir: str | None
    config_module: str | None
    config_name: str
    root: str

    @property
    def shown_dir(self) -> str:
        """The config source as the user wrote it, for messages."""
        if self.config_module:
            return f"module '{self.config_module}'"
        return os.path.relpath(self.config_dir or "", self.root)


def hydra_settings(config: Config, root: str) -> HydraSettings:
    """The settings with DVC's defaults: `conf/` and `config` (.yaml)."""
    module = config.get("hydra", "config_module")
    config_dir = None if module else os.path.join(root, config.get("hydra", "config_dir", "conf"))
    return HydraSettings(
        enabled=hydra_enabled(config),
        config_dir=config_dir,
        config_module=module,
        config_name=config.get("hydra", "config_name", "config") or "config",
        root=root,
    )
