"""Params files (YAML, JSON, TOML) and dotted-key lookup in them."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from llmpipe.errors import SpecError
from llmpipe.spec.yamlio import load_yaml


def read_params_file(path: str, relpath: str | None = None) -> dict[str, Any]:
    """Parse a params file, chosen by extension: .json, .toml, else YAML.

    `relpath` is the name used in messages (defaults to `path`). Raises
    SpecError when the file is missing, malformed or not a mapping at the top.
    """
    shown = relpath or path
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise SpecError(
            f"params file '{shown}' does not exist; create it or fix the path"
        ) from None
    except IsADirectoryError:
        raise SpecError(f"params file '{shown}' is a directory, expected a file") from None
    data = _parse(text, os.path.splitext(path)[1].lower(), shown)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(
            f"params file '{shown}' must hold a mapping of names to values,"
            f" not a {type(data).__name__}"
        )
    return data


def _parse(text: str, ext: str, shown: str) -> Any:
    if ext == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{shown}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if ext == ".toml":
        return _parse_toml(text, shown)
    if ext == ".py":
        raise SpecError(f"params file '{shown}': Python params files are not supported; use YAML")
    return load_yaml(text, shown)[0]


def _parse_toml(text: str, shown: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as a package (a dependency there)
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{shown}: invalid TOML: {exc}") from None


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
