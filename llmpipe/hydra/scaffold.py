"""`init --hydra` in a project that has params.yaml: start `conf/` from it.

Hydra composes `conf/config.yaml` into params.yaml; without a primary config
there is nothing to compose, and the first `repro` would stop. The primary
config is made from params.yaml as it is (comments included), so composing it
gives the same values, and that params.yaml is remembered as the composition
it stands for: the first `repro` may rewrite it in Hydra's layout without
taking it for a hand edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..config import Config
from .settings import PARAMS_FILE, hydra_settings


@dataclass(frozen=True)
class Scaffold:
    """What `scaffold_config` did: `created` is the primary config it wrote (a path
    relative to the root), or None with the `reason` it wrote nothing."""

    created: str | None
    reason: str = ""


def scaffold_config(root: str, config: Config) -> Scaffold:
    """Write the primary Hydra config from params.yaml when there is none yet."""
    from ..fsutil import atomic_write_text
    from .compose import remember_composed

    settings = hydra_settings(config, root)
    if settings.config_dir is None:
        return Scaffold(None, f"the configs come from {settings.shown_dir}")
    primary = os.path.join(settings.config_dir, settings.config_name + ".yaml")
    shown = os.path.relpath(primary, root).replace(os.sep, "/")
    if os.path.exists(primary):
        return Scaffold(None, f"{shown} exists; kept as it is")
    params = os.path.join(root, PARAMS_FILE)
    if not os.path.isfile(params):
        return Scaffold(None, f"no {PARAMS_FILE} to start from: create {shown}")
    with open(params, encoding="utf-8") as handle:
        text = handle.read()
    os.makedirs(os.path.dirname(primary), exist_ok=True)
    atomic_write_text(primary, text)
    remember_composed(root, text)
    return Scaffold(shown)
