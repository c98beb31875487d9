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


_LOCK_HEADER = "schema: '2.0'\nstages:\n"


def render_lock(stages: dict[str, dict[str, Any]], verbatim: dict[str, str] | None = None) -> str:
    """dvc.lock text for `stages` (name -> entry, in file order), byte-identical to DVC's.

    `verbatim` holds blocks of unchanged entries as they stand in the current file
    (see `split_stage_blocks`); they are reused instead of rendered again.
    """
    if not stages:
        return "schema: '2.0'\nstages: {}\n"
    verbatim = verbatim or {}
    blocks = (verbatim.get(name) or _render_stage_block(name, e) for name, e in stages.items())
    return _LOCK_HEADER + "".join(blocks)


def split_stage_blocks(text: str) -> dict[str, str]:
    """The text of each stage entry of a canonical dvc.lock, by stage name.

    Anything unexpected (comments, other top-level keys, flow style) gives an
    empty result, and callers then render every entry afresh.
    """
    if not text.startswith(_LOCK_HEADER):
        return {}
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text[len(_LOCK_HEADER) :].splitlines(keepends=True):
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            name = _key_name(line.strip()[:-1])
            if name is None or name in blocks:
                return {}
            current = blocks[name] = []
        elif current is None or not line.startswith("    "):
            return {}
        current.append(line)
    return {name: "".join(lines) for name, lines in blocks.items()}


def _key_name(key: str) -> str | None:
    if key[:1] not in ("'", '"'):
        return key
    try:
        value = load_yaml(key, "dvc.lock")
    except Exception:  # noqa: BLE001 - an odd key only means no reuse
        return None
    return value if isinstance(value, str) else None


def dump_yaml(data: Any) -> str:
    """Render any document as DVC does (ruamel, block style); for small files."""
    stream = io.StringIO()
    _ruamel().dump(data, stream)
    return stream.getvalue()
