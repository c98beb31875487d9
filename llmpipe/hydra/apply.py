"""`llmpipe sweep apply`: make a job's overrides the project's configuration.

With Hydra enabled the job's overrides are written into the primary config
(`conf/config.yaml`): a group choice replaces its entry in the `defaults` list,
a value is set in the primary config (which Hydra merges last when `_self_` is
last or absent). The result is checked: composing the edited config without
overrides must give exactly the job's params, else the file is restored and the
error says why. Without Hydra the overrides are applied to params.yaml, as
`repro -S` does. Either way a plain `repro` then reproduces the job.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .compose import compose_config, is_group, to_yaml, write_params
from .overrides import apply_to_params_file, parse_overrides, split_path_overrides
from .results import SweepRecord
from .settings import PARAMS_FILE, HydraSettings, hydra_settings

if TYPE_CHECKING:
    from ..config import Config


def apply_job(root: str, config: Config, record: SweepRecord, job: int) -> list[str]:
    """Write job `job` of the sweep `record` into the project's config at `root`;
    returns the files changed."""
    chosen = next((j for j in record.jobs if j.job == job), None)
    if chosen is None:
        raise ConfigError(f"sweep {record.id} has no job {job}; jobs: 0..{len(record.jobs) - 1}")
    grouped = split_path_overrides(chosen.overrides)
    settings = hydra_settings(config, root)
    changed: list[str] = []
    if settings.enabled and PARAMS_FILE in grouped:
        changed += _apply_to_hydra_config(settings, grouped.pop(PARAMS_FILE))
    for relpath, overrides in grouped.items():
        apply_to_params_file(root, relpath, overrides)
        changed.append(relpath)
    return changed


def _apply_to_hydra_config(settings: HydraSettings, overrides: list[str]) -> list[str]:
    from ..yamlio import dump_yaml, load_for_update

    if settings.config_module or not settings.config_dir:
        raise ConfigError("sweep apply needs hydra.config_dir (configs in a module are read-only)")
    expected = compose_config(settings, overrides)
    path = os.path.join(settings.config_dir, settings.config_name + ".yaml")
    with open(path, encoding="utf-8") as handle:
        original = handle.read()
    data = load_for_update(original)
    with _hydra_loader(settings) as loader:
        for override in parse_overrides(overrides, loader):
            if is_group(loader, override.key_or_group):
                _set_default(data, override)
            else:
                _set_value(data, override)
    _write(path, dump_yaml(data))
    if compose_config(settings, []) != expected:
        _write(path, original)
        raise ConfigError(
            f"cannot express {overrides} in '{os.path.relpath(path, settings.root)}': composing it "
            "would not give the job's params (is '_self_' first in its defaults? move it last)"
        )
    write_params(settings.root, to_yaml(expected))
    return [os.path.relpath(path, settings.root), PARAMS_FILE]


def _hydra_loader(settings: HydraSettings) -> Any:
    from .compose import hydra_session

    return hydra_session(settings)


def _set_default(data: Any, override: Any) -> None:
    defaults = data.setdefault("defaults", [])
    group = override.key_or_group
    for index, entry in enumerate(defaults):
        if isinstance(entry, dict) and {group, f"override {group}"} & set(entry):
            key = next(iter(entry))
            if override.is_delete():
                del defaults[index]
            else:
                entry[key] = override.value()
            return
    if not override.is_delete():
        position = defaults.index("_self_") if "_self_" in defaults else len(defaults)
        defaults.insert(position, {group: override.value()})


def _set_value(data: Any, override: Any) -> None:
    *path, leaf = override.key_or_group.split(".")
    node = data
    for part in path:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if override.is_delete():
        node.pop(leaf, None)
    else:
        node[leaf] = override.value()


def _write(path: str, text: str) -> None:
    from ..fsutil import atomic_write_text

    atomic_write_text(path, text)
