"""YAML reading and writing with DVC's semantics, at C speed where it matters.

DVC reads and writes YAML 1.2 through ruamel.yaml: `yes`/`on` stay strings,
`1e-5` and `0o17` are numbers. PyYAML's fast C loader follows YAML 1.1, so
`Yaml12Loader` swaps in YAML 1.2 core-schema resolvers while keeping the C
parser. For writing, `render_lock` renders each stage entry with ruamel
(byte-identical to DVC) and caches the text per entry, so writing dvc.lock
after every stage costs one entry, not the whole file.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import yaml

from .errors import SpecError


class Yaml12Loader(yaml.CSafeLoader):
    """PyYAML's C loader with YAML 1.2 core-schema implicit types."""


Yaml12Loader.yaml_implicit_resolvers = {}
_RESOLVERS = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$",
        "-+0123456789",
    ),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
]
for _tag, _pattern, _first in _RESOLVERS:
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


def _construct_int(loader: Yaml12Loader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith(("0b", "0x", "0o")):
        return sign * int(text, 0)
    if len(text) > 1 and text.startswith("0"):
        return sign * int(text, 8)  # YAML 1.2 via ruamel reads `0o17` and `017` as octal
    return sign * int(text)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml(text: str, path: str) -> Any:
    """Parse YAML text with DVC's semantics; malformed input names file, line and column."""
    try:
        return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: malformed YAML: {exc}") from None


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
