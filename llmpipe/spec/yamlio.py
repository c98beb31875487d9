"""YAML reading and writing with DVC's YAML 1.2 rules, on libyaml for speed.

DVC reads and writes YAML with ruamel.yaml, which follows YAML 1.2: `on`, `yes`
and `no` are strings, `1:20` is a string, `1e3` is a float, `017` is decimal 17,
and a mapping with a repeated key is an error. PyYAML follows YAML 1.1. The
loader and dumper here swap PyYAML's implicit resolvers for YAML 1.2 ones so
that llmpipe sees exactly the values `dvc` sees, while parsing stays in C.

`load_yaml` also returns, for every mapping, the line of each key, so that
error messages and `Stage.lineno` cost no second parse.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from llmpipe.errors import SpecError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?0b[01_]+|[-+]?0o[0-7_]+|[-+]?[0-9][0-9_]*|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_MERGE = re.compile(r"^(?:<<)$")


def _yaml12_resolvers() -> dict[str | None, list[tuple[str, re.Pattern[str]]]]:
    """Implicit resolvers keyed by first character, as PyYAML's Resolver expects."""
    rules = [
        ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
        ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
        ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
        ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:merge", _MERGE, "<"),
    ]
    table: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, regexp, first in rules:
        for char in first:
            table.setdefault(char or None, []).append((tag, regexp))
    return table


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader with YAML 1.2 scalars, duplicate-key errors and key line numbers."""

    yaml_implicit_resolvers = _yaml12_resolvers()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.key_lines: dict[int, dict[Any, int]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        _check_duplicate_keys(node)
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a scalar", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
            lines[key] = key_node.start_mark.line + 1
        self.key_lines[id(mapping)] = lines
        return mapping

    def construct_yaml_map(self, node: yaml.MappingNode):  # noqa: ANN201
        # Built in one step (not the two-step generator PyYAML uses) so that the
        # dict's id recorded in key_lines is the one the caller receives.
        yield self.construct_mapping(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
            if digits.startswith(prefix):
                return sign * int(digits[2:], base)
        return sign * int(digits, 10)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _check_duplicate_keys(node: yaml.MappingNode) -> None:
    """Reject a key written twice in one mapping, as ruamel (and so DVC) does."""
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
            continue
        if key_node.value in seen:
            raise _DuplicateKey(key_node.value, key_node.start_mark, seen[key_node.value])
        seen[key_node.value] = key_node.start_mark.line + 1


class _DuplicateKey(yaml.MarkedYAMLError):
    def __init__(self, key: Any, mark: yaml.Mark, first_line: int) -> None:
        super().__init__(
            problem=f"duplicate key '{key}' (first defined on line {first_line})",
            problem_mark=mark,
        )


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Safe dumper that quotes exactly the strings a YAML 1.2 reader would misread."""

    yaml_implicit_resolvers = _yaml12_resolvers()


def load_yaml(text: str, relpath: str) -> tuple[Any, dict[int, dict[Any, int]]]:
    """Parse YAML `text`; return the data and `{id(mapping): {key: line}}`.

    Raises SpecError naming `relpath:line:col` when the text is not valid YAML
    or repeats a key in one mapping.
    """
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.key_lines
    except yaml.MarkedYAMLError as exc:
        raise SpecError(_yaml_error_message(exc, relpath)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{relpath}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _yaml_error_message(exc: yaml.MarkedYAMLError, relpath: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{relpath}:{mark.line + 1}:{mark.column + 1}" if mark else relpath
    problem = exc.problem or exc.context or "malformed document"
    if exc.context and exc.context_mark and exc.problem:
        start = exc.context_mark
        problem += f" ({exc.context} started at line {start.line + 1}, column {start.column + 1})"
    if isinstance(exc, _DuplicateKey):
        return f"{where}: {problem}; remove or rename one of them"
    return f"{where}: invalid YAML: {problem}; fix the syntax at that position"


def dump_yaml(data: Any) -> str:
    """Block-style YAML as DVC writes it (keys in insertion order, unicode kept)."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
    )
