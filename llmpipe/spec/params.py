"""Params files (YAML, JSON, TOML) and dotted-key lookup in them."""

from __future__ import annotations

from typing import Any

from llmpipe.errors import FileProblem, LlmpipeError, SpecError
from llmpipe.metrics import parse_text, parse_tree_file
from llmpipe.revfs import FileTree, parse_once


def read_params_file(path: str, relpath: str | None = None) -> dict[str, Any]:
    """Parse a params file, chosen by extension: .json, .toml, else YAML.

    `relpath` is the name used in messages (defaults to `path`). Raises
    SpecError when the file is missing, malformed or not a mapping at the top.
    """
    shown = relpath or path
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise SpecError(f"params file '{shown}' is not UTF-8 text (byte {exc.start})") from None
    except FileNotFoundError:
        raise SpecError(
            f"params file '{shown}' does not exist; create it or fix the path"
        ) from None
    except IsADirectoryError:
        raise SpecError(f"params file '{shown}' is a directory, expected a file") from None
    return parse_params(text, shown)


def shared_params(tree: FileTree, relpath: str) -> dict[str, Any] | None:
    """The params file at `relpath` of a commit, parsed once per content for every
    reader (see `metrics.parse_tree_file`); None when the caller must read it itself
    (the workspace, a missing or malformed file, one that is not a mapping): its own
    reading then gives its own error. The result is shared: do not change it."""
    if tree.commit is None or relpath.lower().endswith(".py"):
        return None
    try:
        data = parse_once(tree, relpath, parse_tree_file)
    except LlmpipeError:
        return None
    if data is None:
        return {}
    return data if isinstance(data, dict) else None


def parse_params(text: str, relpath: str) -> dict[str, Any]:
    """The mapping in the text of the params file `relpath`, parsed by its extension."""
    data = _parse(text, relpath)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(
            f"params file '{relpath}' must hold a mapping of names to values,"
            f" not a {type(data).__name__}"
        )
    return data


def _parse(text: str, relpath: str) -> Any:
    if relpath.lower().endswith(".py"):
        raise SpecError(f"params file '{relpath}': Python params files are not supported; use YAML")
    try:
        return parse_text(text, relpath)  # by extension, as metrics files (DVC's rules)
    except FileProblem as exc:
        raise SpecError(str(exc)) from None


def lookup_param(data: dict[str, Any], dotted_key: str) -> Any:
    """The value at `dotted_key` ("train.lr", "layers.0"); raises KeyError if absent.

    A key that itself contains dots ("a.b" at the top) is found before descending.
    """
    if dotted_key in data:
        return data[dotted_key]
    value: Any = data
    for part in dotted_key.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(dotted_key)
    return value
