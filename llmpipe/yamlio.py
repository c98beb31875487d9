"""YAML reading and writing with DVC's semantics, at C speed where it matters.

DVC reads and writes YAML 1.2 through ruamel.yaml; reading goes through the
YAML 1.2 loader of `spec.yamlio` (libyaml speed). For writing, `render_lock`
renders each stage entry with ruamel (byte-identical to DVC) and caches the
text per entry, so writing dvc.lock after every stage costs one entry, not the
whole file.
"""

from __future__ import annotations

import io
import json
from typing import Any


def load_yaml(text: str, path: str) -> Any:
    """Parse YAML text with DVC's YAML 1.2 semantics; errors name file, line and column."""
    from .spec.yamlio import load_yaml as load_with_lines

    return load_with_lines(text, path)[0]


def load_yaml_file(path: str, display: str | None = None) -> Any:
    with open(path, encoding="utf-8") as handle:
        return load_yaml(handle.read(), display or path)


_ENTRY_CACHE: dict[str, str] = {}


def _ruamel() -> Any:
    from ruamel.yaml import YAML

    dumper = YAML()
    dumper.default_flow_style = False
    return dumper


def _render_stage_block(name: str, entry: dict[str, Any]) -> str:
    """The text of one `stages:` member, exactly as DVC's ruamel dump writes it."""
    key = json.dumps([name, entry], sort_keys=False, default=str)
    cached = _ENTRY_CACHE.get(key)
    if cached is None:
        stream = io.StringIO()
        _ruamel().dump({"stages": {name: entry}}, stream)
        cached = stream.getvalue().split("\n", 1)[1]
        _ENTRY_CACHE[key] = cached
    return cached


def render_lock(stages: dict[str, dict[str, Any]]) -> str:
    """dvc.lock text for `stages` (name -> entry, in file order), byte-identical to DVC's."""
    parts = ["schema: '2.0'\n"]
    if stages:
        parts.append("stages:\n")
        parts.extend(_render_stage_block(name, entry) for name, entry in stages.items())
    else:
        parts.append("stages: {}\n")
    return "".join(parts)


def dump_yaml(data: Any) -> str:
    """Render any document as DVC does (ruamel, block style); for small files."""
    stream = io.StringIO()
    _ruamel().dump(data, stream)
    return stream.getvalue()
