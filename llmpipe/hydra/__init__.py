"""Hydra in llmpipe: compose `conf/` into params.yaml, and sweep hyperparameters.

Nothing here imports hydra or omegaconf at module level: a `repro` on a project
without Hydra enabled and without `-S` overrides must not pay for them. Whether
Hydra is on is answered here, without loading the settings (`hydra.settings`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config

_TRUE = ("true", "1", "yes", "on")


def hydra_enabled(config: Config) -> bool:
    """True when `.dvc/config` says `[hydra] enabled = true` (DVC's switch)."""
    return (config.get("hydra", "enabled") or "").strip().lower() in _TRUE
