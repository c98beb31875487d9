"""Expand Hydra multirun syntax into jobs, with Hydra's own parser and sweep iterators.

`a=1,2 b=range(0,3) model=glob(*)` becomes the Cartesian product of the values,
in the order Hydra's BasicSweeper uses (first override varies slowest). Overrides
under `hydra.`/`hydra/` configure the launcher and are returned separately.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .overrides import parse_overrides

MAX_JOBS = 10_000


@dataclass(frozen=True)
class Expansion:
    jobs: tuple[tuple[str, ...], ...]  # each job's overrides, in the user's order
    launcher_overrides: tuple[str, ...]  # hydra/launcher=..., hydra.launcher.n_jobs=...
    common: tuple[str, ...]  # the overrides every job shares (not sweeps)


def expand(overrides: Sequence[str], config_loader: Any = None) -> Expansion:
    """Split off launcher settings and expand the rest; ConfigError on grammar or glob misuse.

    `config_loader` (from an open Hydra session) lets `glob()` list a group's options.
    """
    launcher = tuple(o for o in overrides if _is_hydra_setting(o))
    job_overrides = [o for o in overrides if not _is_hydra_setting(o)]
    parsed = parse_overrides(job_overrides, config_loader)
    choices: list[list[str]] = []
    common: list[str] = []
    for override in parsed:
        if not override.is_sweep_override():
            choices.append([override.input_line])
            common.append(override.input_line)
        elif override.is_discrete_sweep():
            choices.append(_discrete(override, config_loader))
        else:
            raise ConfigError(
                f"override '{override.input_line}': interval() sweeps need an optimizing sweeper; "
                "use a comma list, range() or choice()"
            )
    total = 1
    for values in choices:
        total *= len(values)
    if total > MAX_JOBS:
        raise ConfigError(f"the sweep expands to {total} jobs (more than {MAX_JOBS}); narrow it")
    jobs = tuple(tuple(combo) for combo in itertools.product(*choices))
    return Expansion(jobs, launcher, tuple(common))


def _discrete(override: Any, config_loader: Any) -> list[str]:
    from hydra.core.override_parser.types import ValueType

    if override.value_type == ValueType.GLOB_CHOICE_SWEEP and config_loader is None:
        raise ConfigError(
            f"override '{override.input_line}': glob() chooses among a config group's options "
            "and needs Hydra enabled ('llmpipe init --hydra' or 'dvc config hydra.enabled True')"
        )
    key = override.get_key_element()
    values = [f"{key}={value}" for value in override.sweep_string_iterator()]
    if not values:
        raise ConfigError(f"override '{override.input_line}' expands to no values")
    return values


def _is_hydra_setting(override: str) -> bool:
    key = override.lstrip("+~").split("=", 1)[0]
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))
