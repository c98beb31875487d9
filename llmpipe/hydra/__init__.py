"""Hydra in llmpipe: compose `conf/` into params.yaml, and sweep hyperparameters.

Nothing here imports hydra or omegaconf at module level: a `repro` on a project
without Hydra enabled and without `-S` overrides must not pay for them.
"""

from __future__ import annotations

from .settings import HydraSettings, hydra_enabled, hydra_settings

__all__ = ["HydraSettings", "hydra_enabled", "hydra_settings"]
