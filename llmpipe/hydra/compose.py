"""Compose the project's Hydra config with overrides into params.yaml (DVC's `hydra.enabled`).

The YAML is `OmegaConf.to_yaml` of the resolved config, byte for byte what
`dvc exp run` writes, so dvc and llmpipe agree on params.yaml. A bad override is
reported before anything is written: the key or group it names and close matches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Composition:
    """params.yaml as composition makes it: the text it had (`before`, None: no file), the
    text composed (`after`), whether the file was edited by hand since llmpipe last composed
    it (then only `force` overwrites it), and whether it was `written`."""

    relpath: str
    before: str | None
    after: str
    hand_edited: bool = False
    written: bool = False

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def changed_keys(self) -> list[str]:
        """The dotted keys whose values composition adds, removes or changes, sorted."""
        old, new = _flat_params(self.before, self.relpath), _flat_params(self.after, self.relpath)
        return sorted(
            key for key in old.keys() | new.keys() if old.get(key, _GONE) != new.get(key, _GONE)
        )


_GONE = object()


def _flat_params(text: str | None, relpath: str) -> dict[str, Any]:
    from ..metrics import flatten
    from ..yamlio import load_yaml

    try:
        data = load_yaml(text or "", relpath, ConfigError)
    except ConfigError:
        return {}  # a file that does not parse: composition replaces all of it
    return flatten(data, keep_lists=True) if isinstance(data, dict) else {}


def compose_params(root: str, config: Config, overrides: Sequence[str]) -> Composition | None:
    """What composing params.yaml with `overrides` gives (None: Hydra is not enabled).

    Nothing is written; ConfigError for a bad override.
    """
    settings = hydra_settings(config, root)
    if not settings.enabled:
        return None
    after = compose_params_text(root, settings, overrides)
    before = _read_text(os.path.join(root, PARAMS_FILE))
    edited = before is not None and before != after and _edited_by_hand(root, before)
    return Composition(PARAMS_FILE, before, after, edited)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


# The sha256 of the params.yaml text llmpipe last composed in this clone: a file that
# differs from it (and from the committed one) was edited since.
_COMPOSED_RECORD = os.path.join(".llmpipe", "tmp", "composed-params.json")


def _edited_by_hand(root: str, text: str) -> bool:
    """Whether `text` (params.yaml now) is neither llmpipe's last composition nor committed."""
    if _recorded_digest(root) == _digest(text):
        return False
    return _committed_text(root, PARAMS_FILE) != text


def _recorded_digest(root: str) -> str | None:
    import json

    try:
        with open(os.path.join(root, _COMPOSED_RECORD), encoding="utf-8") as handle:
            recorded = json.load(handle)
    except (OSError, ValueError):
        return None  # no record (a fresh clone, a sweep job's copy): only git can vouch
    return recorded.get(PARAMS_FILE) if isinstance(recorded, dict) else None


def remember_composed(root: str, text: str) -> None:
    """Record `text` as params.yaml's last composition (a file of that text is no hand
    edit); nothing is written when it is recorded already, so a no-op repro writes nothing."""
    import json

    from ..fsutil import atomic_write_text

    digest = _digest(text)
    if _recorded_digest(root) == digest:
        return
    path = os.path.join(root, _COMPOSED_RECORD)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps({PARAMS_FILE: digest}) + "\n")


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _committed_text(root: str, relpath: str) -> str | None:
    """The text of `relpath` at HEAD (None outside git, before the first commit, or absent)."""
    from ..errors import LlmpipeError
    from ..revfs import GitObjects, RevTree, git_location
    from ..scm import head_commit

    try:
        commit = head_commit(root)
        if commit is None:
            return None
        git_root, prefix = git_location(root)
        with GitObjects(git_root) as objects:
            data = RevTree(objects, commit, prefix).read_bytes(relpath)
    except LlmpipeError:
        return None
    return data.decode("utf-8", errors="replace") if data is not None else None


def refuse_hand_edits(composition: Composition, shown_dir: str) -> None:
    """ConfigError when composing would overwrite a params.yaml edited by hand."""
    if not composition.hand_edited:
        return
    keys = composition.changed_keys()
    listed = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    raise ConfigError(
        f"{composition.relpath} was edited by hand since llmpipe last composed it from "
        f"{shown_dir}, and composing would overwrite that edit ({listed or 'formatting'}): "
        f"move the change into {shown_dir} (or pass it as -S key=value), delete "
        f"{composition.relpath} to recompose it, or run 'llmpipe repro --force' to overwrite "
        "it (and re-run every stage)"
    )


def prepare_params(
    root: str, config: Config, overrides: Sequence[str], *, write: bool = True, force: bool = False
) -> Composition | None:
    """Before a `repro`: compose params.yaml (Hydra enabled) and/or apply `-S` overrides.

    Overrides of the form `file:key=value` go to that params file; the others go to
    params.yaml (through Hydra when enabled). Every override is validated before
    any file changes. With `write=False` only the validation happens. A params.yaml
    edited by hand since the last composition is not overwritten (ConfigError)
    unless `force`. Returns what composition did (None without Hydra).
    """
    from .overrides import apply_to_params_file

    grouped = split_path_overrides(overrides)
    composed = None
    if hydra_settings(config, root).enabled:  # else params.yaml overrides edit it in place
        composed = compose_params(root, config, grouped.pop(PARAMS_FILE, []))
    if grouped:
        params_with_overrides(root, grouped)  # validates every file before any is written
    if composed is not None and not force:
        refuse_hand_edits(composed, hydra_settings(config, root).shown_dir)
    if not write:
        return composed
    if composed is not None:
        written = write_params(root, composed.after)
        remember_composed(root, composed.after)
        composed = replace(composed, written=written)
    for relpath, file_overrides in grouped.items():
        apply_to_params_file(root, relpath, file_overrides)
    return composed
