"""Hydra override grammar: parsing, grouping by params file, close-match hints.

Also applies overrides to a plain params file (no Hydra composition), which is
what DVC's `exp run -S` does when `hydra.enabled` is off: `key=value` must name
an existing key, `+key=value` adds one, `++key=value` sets either way, `~key`
deletes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .settings import PARAMS_FILE

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override


def split_path_overrides(overrides: Iterable[str]) -> dict[str, list[str]]:
    """Group `[file:]override` strings by params file (default params.yaml), as DVC does."""
    grouped: dict[str, list[str]] = {}
    for text in overrides:
        head = text.partition("=")[0]
        path, override = (PARAMS_FILE, text) if ":" not in head else text.split(":", 1)
        grouped.setdefault(path, []).append(override)
    return grouped


def parse_overrides(overrides: Sequence[str], config_loader: Any = None) -> list[Override]:
    """Parse each override; a grammar error names the override that caused it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    parser = OverridesParser.create(config_loader=config_loader)
    parsed = []
    for text in overrides:
        try:
            parsed.extend(parser.parse_overrides([text]))
        except OverrideParseException as exc:
            reason = str(exc).splitlines()[0]
            raise ConfigError(
                f"bad override '{text}': {reason} (Hydra override grammar: key=value, "
                "+key=value to add, ~key to delete, group=option)"
            ) from None
    return parsed


def flat_keys(data: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted key of a nested mapping, intermediate mappings included."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        yield dotted
        yield from flat_keys(value, dotted + ".")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'a' or 'b'?)' for close matches, else ''."""
    matches = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(f"'{m}'" for m in matches) + "?)"


def unknown_key_error(override: Override, keys: Iterable[str], where: str) -> ConfigError:
    """The error for `key=value` or `~key` naming a key that is not in the config."""
    key = override.key_or_group
    hint = did_you_mean(key, keys)
    fix = "" if override.is_delete() else f"; to add a new key write '+{override.input_line}'"
    return ConfigError(f"override '{override.input_line}': no key '{key}' in {where}{hint}{fix}")


def apply_to_mapping(data: dict[str, Any], overrides: Sequence[Override], where: str) -> None:
    """Apply parsed overrides in place to a plain nested mapping, checking keys exist."""
    for override in overrides:
        if override.is_sweep_override():
            raise ConfigError(
                f"override '{override.input_line}' is a sweep; run it with 'llmpipe sweep'"
            )
        parent, leaf = _parent(data, override.key_or_group)
        exists = parent is not None and leaf in parent
        if override.is_delete():
            if not exists:
                raise unknown_key_error(override, list(flat_keys(data)), where)
            del parent[leaf]
        elif override.is_add() and exists:
            raise ConfigError(
                f"override '{override.input_line}': '{override.key_or_group}' already exists in "
                f"{where}; drop the '+' to change it, or use '++' to add or change"
            )
        elif not (override.is_add() or override.is_force_add()) and not exists:
            raise unknown_key_error(override, list(flat_keys(data)), where)
        else:
            _set(data, override.key_or_group, override.value())


def _parent(data: dict[str, Any], dotted: str) -> tuple[dict[str, Any] | None, str]:
    *path, leaf = dotted.split(".")
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return (node if isinstance(node, dict) else None), leaf


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *path, leaf = dotted.split(".")
    node = data
    for part in path:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


def apply_to_params_file(root: str, relpath: str, overrides: Sequence[str]) -> None:
    """Rewrite a YAML or JSON params file with the overrides; untouched on any error.

    YAML keeps its comments and layout (ruamel round trip), as DVC does.
    """
    from ..fsutil import atomic_write_text

    path = os.path.join(root, relpath)
    parsed = parse_overrides(overrides)
    if not os.path.exists(path):
        raise ConfigError(f"params file '{relpath}' does not exist; cannot apply {list(overrides)}")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if relpath.endswith(".json"):
        atomic_write_text(path, _apply_json(text, parsed, relpath))
    elif relpath.endswith((".yaml", ".yml")):
        atomic_write_text(path, _apply_yaml(text, parsed, relpath))
    else:
        raise ConfigError(
            f"overrides for '{relpath}': only YAML and JSON params files are supported"
        )


def _apply_json(text: str, parsed: Sequence[Override], relpath: str) -> str:
    import json

    data = json.loads(text or "{}")
    apply_to_mapping(data, parsed, f"'{relpath}'")
    return json.dumps(data, indent=4) + "\n"


def _apply_yaml(text: str, parsed: Sequence[Override], relpath: str) -> str:
    from ..yamlio import dump_yaml, load_for_update

    data = load_for_update(text)
    apply_to_mapping(data, parsed, f"'{relpath}'")
    return dump_yaml(data)


def params_with_overrides(root: str, grouped: dict[str, list[str]]) -> dict[str, Any]:
    """Each params file's data with its overrides applied, in memory (files untouched)."""
    import copy

    from ..spec.params import read_params_file

    files = {}
    for relpath, file_overrides in grouped.items():
        path = os.path.join(root, relpath)
        if not os.path.exists(path):
            raise ConfigError(
                f"params file '{relpath}' does not exist; cannot apply {file_overrides}"
            )
        data = copy.deepcopy(read_params_file(path, relpath))
        apply_to_mapping(data, parse_overrides(file_overrides), f"'{relpath}'")
        files[relpath] = data
    return files
