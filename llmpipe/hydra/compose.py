"""Compose the project's Hydra config with overrides into params.yaml (DVC's `hydra.enabled`).

The YAML is `OmegaConf.to_yaml` of the resolved config, byte for byte what
`dvc exp run` writes, so dvc and llmpipe agree on params.yaml. A bad override is
reported before anything is written: the key or group it names and close matches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .overrides import (
    did_you_mean,
    flat_keys,
    params_with_overrides,
    parse_overrides,
    split_path_overrides,
    unknown_key_error,
)
from .settings import PARAMS_FILE, HydraSettings, hydra_settings

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

    from ..config import Config


@contextmanager
def hydra_session(settings: HydraSettings) -> Iterator[Any]:
    """Hydra initialized on the project's configs; yields its config loader."""
    from hydra import initialize_config_dir, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if settings.config_dir and not os.path.isdir(settings.config_dir):
        raise ConfigError(
            f"Hydra is enabled but its config directory '{settings.shown_dir}' does not exist: "
            f"create {settings.shown_dir}/{settings.config_name}.yaml or set hydra.config_dir"
        )
    GlobalHydra.instance().clear()
    if settings.config_module:
        init = initialize_config_module(settings.config_module, version_base=None)
    else:
        init = initialize_config_dir(settings.config_dir, version_base=None)
    with init:
        yield GlobalHydra.instance().hydra.config_loader


def compose_config(settings: HydraSettings, overrides: Sequence[str]) -> dict[str, Any]:
    """The resolved composed config as plain data; ConfigError for any bad override."""
    with hydra_session(settings) as loader:
        return compose_with(loader, settings, overrides)


def compose_with(loader: Any, settings: HydraSettings, overrides: Sequence[str]) -> dict[str, Any]:
    """`compose_config` inside an open `hydra_session` (to compose many jobs at once)."""
    from omegaconf import OmegaConf

    parsed = parse_overrides(overrides, loader)
    for override in parsed:
        if override.is_sweep_override():
            raise ConfigError(
                f"override '{override.input_line}' is a sweep; run it with 'llmpipe sweep'"
            )
    cfg = _compose_or_explain(loader, settings, parsed)
    try:
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except Exception as exc:  # noqa: BLE001 - omegaconf raises many interpolation errors
        raise ConfigError(
            f"{settings.shown_dir}: cannot resolve the composed config: {exc}"
        ) from None


def to_yaml(config: dict[str, Any]) -> str:
    """The params.yaml text DVC writes for a composed config."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(config))


def _compose_or_explain(loader: Any, settings: HydraSettings, parsed: list[Override]) -> Any:
    from hydra import compose
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    lines = [o.input_line for o in parsed]
    try:
        return compose(config_name=settings.config_name, overrides=lines)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise _explain(loader, settings, parsed, exc) from None


def _explain(
    loader: Any, settings: HydraSettings, parsed: list[Override], exc: Exception
) -> ConfigError:
    """Find the override that broke composition and say what is wrong with it."""
    from hydra import compose

    where = f"{settings.shown_dir}/{settings.config_name}.yaml"
    primary = os.path.join(settings.config_dir or "", settings.config_name + ".yaml")
    if settings.config_dir and not os.path.exists(primary):
        return ConfigError(f"Hydra is enabled but '{where}' does not exist; create it")
    groups = [o for o in parsed if is_group(loader, o.key_or_group)]
    for override in groups:
        error = _check_group_option(loader, override)
        if error:
            return error
    try:
        base = compose(config_name=settings.config_name, overrides=[o.input_line for o in groups])
    except Exception:  # noqa: BLE001 - the primary config itself is broken
        return ConfigError(f"cannot compose '{where}': {_first_line(exc)}")
    from omegaconf import OmegaConf

    keys = list(flat_keys(OmegaConf.to_container(base, resolve=False)))
    for override in parsed:
        if override in groups:
            continue
        exists = override.key_or_group in keys
        if not exists and not (override.is_add() or override.is_force_add()):
            return unknown_key_error(override, keys, f"the composed config ({where})")
        if exists and override.is_add():
            return ConfigError(
                f"override '{override.input_line}': '{override.key_or_group}' already exists; "
                "drop the '+' to change it, or use '++' to add or change"
            )
    return ConfigError(
        f"cannot compose '{where}' with {[o.input_line for o in parsed]}: {_first_line(exc)}"
    )


def is_group(loader: Any, key: str) -> bool:
    """True when `key` (e.g. `model` or `db/engine`) names a config group."""
    parent, _, name = key.rpartition("/")
    return name in loader.list_groups(parent)


def _check_group_option(loader: Any, override: Override) -> ConfigError | None:
    if override.is_delete() or override.is_sweep_override():
        return None
    options = loader.get_group_options(override.key_or_group)
    value = override.value()
    if isinstance(value, str) and value not in options:
        hint = did_you_mean(value, options)
        return ConfigError(
            f"override '{override.input_line}': config group '{override.key_or_group}' has no "
            f"option '{value}'{hint}; options: {', '.join(options) or 'none'}"
        )
    return None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def write_params(root: str, text: str, relpath: str = PARAMS_FILE) -> bool:
    """Atomically write params.yaml when its text changes; True if it was written.

    An unchanged file keeps its mtime, so the state DB's fast path still holds.
    """
    from ..fsutil import atomic_write_text

    path = os.path.join(root, relpath)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    atomic_write_text(path, text)
    return True


def compose_params_text(repo_root: str, settings: HydraSettings, overrides: Sequence[str]) -> str:
    """The params.yaml text for `overrides` (composition only, nothing written)."""
    return to_yaml(compose_config(settings, overrides))


def prepare_params(
    root: str, config: Config, overrides: Sequence[str], *, write: bool = True
) -> None:
    """Before a `repro`: compose params.yaml (Hydra enabled) and/or apply `-S` overrides.

    Overrides of the form `file:key=value` go to that params file; the others go to
    params.yaml (through Hydra when enabled). Every override is validated before
    any file changes. With `write=False` only the validation happens.
    """
    from .overrides import apply_to_params_file

    grouped = split_path_overrides(overrides)
    settings = hydra_settings(config, root)
    composed = None
    if settings.enabled:
        composed = compose_params_text(root, settings, grouped.pop(PARAMS_FILE, []))
    if grouped:
        params_with_overrides(root, grouped)  # validates every file before any is written
    if not write:
        return
    if composed is not None:
        write_params(root, composed)
    for relpath, file_overrides in grouped.items():
        apply_to_params_file(root, relpath, file_overrides)
