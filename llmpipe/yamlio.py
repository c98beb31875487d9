"""The one owner of YAML: reading with DVC's YAML 1.2 rules, writing DVC's text.

DVC reads and writes YAML through ruamel.yaml, which follows YAML 1.2: `on`,
`yes` and `no` are strings, `1:20` is a string, `1e3` is a float, `017` is
decimal 17, and a mapping with a repeated key is an error. PyYAML follows YAML
1.1. Reading here swaps PyYAML's implicit resolvers for YAML 1.2 ones, so that
llmpipe sees exactly the values `dvc` sees while parsing stays in C (libyaml).
`load_with_lines` also returns the line of every mapping key, so that spec
errors and `Stage.lineno` cost no second parse.

Writing goes through ruamel configured as DVC configures it, so dvc.lock and
`.dvc` files are byte-identical to DVC's; `render_lock` caches the text of each
stage entry, so writing dvc.lock after every stage costs one entry, not the
whole file. `load_for_update` then `dump_yaml` edit a YAML file keeping its
comments and layout (ruamel's round trip), as `dvc exp run -S` does.

Nothing else in llmpipe imports `yaml` or `ruamel` (ruff's banned-api keeps it so).
"""

from __future__ import annotations

import functools
import io
import json
import re
from typing import TYPE_CHECKING, Any

from . import parsememo
from .errors import LlmpipeError, SpecError

if TYPE_CHECKING:
    import yaml

# -- reading ----------------------------------------------------------------------

# YAML 1.2's implicit types, compiled on the first parse (`_pyyaml`): a no-op `repro`
# whose files the parse memo knows never needs them.
_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
_INT = r"^(?:[-+]?0b[01_]+|[-+]?0o[0-7_]+|[-+]?[0-9][0-9_]*|[-+]?0x[0-9a-fA-F_]+)$"
_FLOAT = r"""(?x)^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$"""
_NULL = r"^(?:~|null|Null|NULL|)$"
_MERGE = r"^(?:<<)$"

KeyLines = dict[int, dict[Any, int]]


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
    for tag, pattern, first in rules:
        regexp = re.compile(pattern)
        for char in first:
            table.setdefault(char or None, []).append((tag, regexp))
    return table


@functools.cache
def _pyyaml() -> tuple[Any, Any, type[Exception]]:
    """(yaml, the loader class, the duplicate-key error), made on the first parse.

    PyYAML costs ~10 ms to import; a no-op `repro` whose files were parsed before
    finds their data in the parse memo (`parsememo`) and never needs it.
    """
    import yaml

    class DuplicateKey(yaml.MarkedYAMLError):
        def __init__(self, key: Any, mark: yaml.Mark, first_line: int) -> None:
            super().__init__(
                problem=f"duplicate key '{key}' (first defined on line {first_line})",
                problem_mark=mark,
            )

    def check_duplicate_keys(node: yaml.MappingNode) -> None:
        """Reject a key written twice in one mapping, as ruamel (and so DVC) does."""
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            if key_node.value in seen:
                raise DuplicateKey(key_node.value, key_node.start_mark, seen[key_node.value])
            seen[key_node.value] = key_node.start_mark.line + 1

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """Safe loader with YAML 1.2 scalars, duplicate-key errors and key line numbers."""

        yaml_implicit_resolvers = _yaml12_resolvers()

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.key_lines: KeyLines = {}

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
            check_duplicate_keys(node)
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
            try:
                for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
                    if digits.startswith(prefix):
                        return sign * int(digits[2:], base)
                return sign * int(digits, 10)
            except ValueError:  # Python refuses integers of more than 4,300 digits
                raise yaml.constructor.ConstructorError(
                    None, None, f"an integer of {len(digits)} digits is too long", node.start_mark
                ) from None

    Loader.add_constructor("tag:yaml.org,2002:map", Loader.construct_yaml_map)
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    return yaml, Loader, DuplicateKey


def load_with_lines(
    text: str, relpath: str, error: type[LlmpipeError] = SpecError, memo: bool = False
) -> tuple[Any, KeyLines]:
    """Parse YAML `text`; return the data and `{id(mapping): {key: line}}`.

    Raises `error` (SpecError unless told) naming `relpath:line:col` when the
    text is not valid YAML or repeats a key in one mapping. With `memo` (the
    project's files: dvc.yaml, dvc.lock, params, `.dvc`), text parsed before comes
    from the parse memo, as a fresh copy (see `parsememo`).
    """
    return _load(text, relpath, error, memo, lines=True)


def _load(
    text: str, relpath: str, error: type[LlmpipeError], memo: bool, lines: bool
) -> tuple[Any, KeyLines]:
    """`load_with_lines`; without `lines`, a memo entry kept with no key lines serves."""
    remembered = parsememo.recall(text, lines) if memo else None
    if remembered is not None:
        return remembered
    _refuse_tabs_as_dvc_does(text, relpath, error)
    yaml, loader_class, _ = _pyyaml()
    loader = loader_class(text)
    try:
        data, key_lines = loader.get_single_data(), loader.key_lines
    except yaml.MarkedYAMLError as exc:
        raise error(_yaml_error_message(exc, relpath)) from None
    except yaml.YAMLError as exc:
        raise error(f"{relpath}: invalid YAML: {exc}") from None
    except RecursionError:
        raise error(f"{relpath}: invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    if memo:
        parsememo.remember(text, data, key_lines)
    return data, key_lines


def _refuse_tabs_as_dvc_does(text: str, relpath: str, error: type[LlmpipeError]) -> None:
    """libyaml accepts tabs where ruamel, DVC's reader, refuses them (`key\t: v`,
    `a: 1\t`, `a: x\ty`); PyYAML's own scanner differs again inside flow
    collections. Tabs are rare in these files: ask ruamel whenever there is one.
    """
    if "\t" not in text:
        return
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    try:
        YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        raise error(_yaml_error_message(exc, relpath)) from None  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001, S110 - anything else is for the reader below to report
        pass


def load_yaml(
    text: str, relpath: str, error: type[LlmpipeError] = SpecError, memo: bool = False
) -> Any:
    """The data of YAML `text` (YAML 1.2, as DVC reads it); errors and `memo` as
    `load_with_lines`."""
    return _load(text, relpath, error, memo, lines=False)[0]


def load_yaml_file(
    path: str, display: str | None = None, error: type[LlmpipeError] = SpecError
) -> Any:
    """The data of the YAML file at `path`; FileNotFoundError when it is missing.

    Errors name `display` (default: `path`).
    """
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{display or path}: not UTF-8 text (byte {exc.start})") from None
    return load_yaml(text, display or path, error)


def _yaml_error_message(exc: yaml.MarkedYAMLError, relpath: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{relpath}:{mark.line + 1}:{mark.column + 1}" if mark else relpath
    problem = exc.problem or exc.context or "malformed document"
    if exc.context and exc.context_mark and exc.problem:
        start = exc.context_mark
        problem += f" ({exc.context} started at line {start.line + 1}, column {start.column + 1})"
    if isinstance(exc, _pyyaml()[2]):
        return f"{where}: {problem}; remove or rename one of them"
    return f"{where}: invalid YAML: {problem}; fix the syntax at that position"


# -- writing ----------------------------------------------------------------------


def _ruamel(width: int | None = None) -> Any:
    """ruamel's round-trip YAML as DVC sets it up (block style, keys in insertion order)."""
    from ruamel.yaml import YAML

    dumper = YAML()
    dumper.default_flow_style = False
    if width is not None:
        dumper.width = width
    return dumper


def dump_yaml(data: Any, width: int | None = None) -> str:
    """`data` as DVC writes YAML (dvc.lock, `.dvc` files): ruamel, block style.

    `width` (default 80, DVC's) is where ruamel folds long scalars.
    """
    stream = io.StringIO()
    _ruamel(width).dump(data, stream)
    return stream.getvalue()


def load_for_update(text: str) -> Any:
    """The document in `text` as ruamel's round trip reads it (comments attached).

    Change it in place and give it to `dump_yaml`, which keeps its comments and
    layout; an empty document is `{}`.
    """
    return _ruamel().load(text) or {}


_ENTRY_CACHE: dict[str, str] = {}


def _render_stage_block(name: str, entry: dict[str, Any]) -> str:
    """The text of one `stages:` member, exactly as DVC's ruamel dump writes it."""
    return stage_block(name, entry)[0]


def stage_block(name: str, entry: dict[str, Any]) -> tuple[str, bool]:
    """(the block's text, whether `yamlemit` wrote it: then it reads back as `entry`).

    ruamel (~14 ms to import) renders only what `yamlemit` cannot prove it writes alike.
    """
    from . import yamlemit  # only where dvc.lock is written

    fast = yamlemit.stage_block(name, entry)
    if fast is not None:
        return fast, True
    key = json.dumps([name, entry], sort_keys=False, default=str)
    cached = _ENTRY_CACHE.get(key)
    if cached is None:
        cached = dump_yaml({"stages": {name: entry}}).split("\n", 1)[1]
        _ENTRY_CACHE[key] = cached
    return cached, False


def render_entry(name: str, entry: dict[str, Any]) -> str:
    """Stage `name`'s lock `entry` as a top-level mapping (a run-cache entry).

    The stage's dvc.lock block, rendered once by ruamel and cached, is reused with
    its indentation removed: a second ruamel dump of the same entry costs ~2 ms
    a stage. Removing the same indentation from every line keeps the YAML and its
    values as they are.
    """
    block = _render_stage_block(name, entry)
    return "".join(line[4:] for line in block.splitlines(keepends=True)[1:])


LOCK_HEADER = "schema: '2.0'\nstages:\n"
# An anchor (`&name`) or alias (`*name`) where a value starts: after `key:`, `-`,
# or a flow `[`/`{`/`,`. A shell `&&` or glob `*.txt` inside a command is not
# one; a quoted value that looks like one only costs the reuse of blocks.
_NODE_PROPERTY = re.compile(r"(?:^|[:\-\[{,])[ \t]*[&*][^\s&*]", re.M)


def render_lock(stages: dict[str, dict[str, Any]], verbatim: dict[str, str] | None = None) -> str:
    """dvc.lock text for `stages` (name -> entry, in file order), byte-identical to DVC's.

    `verbatim` holds blocks of unchanged entries as they stand in the current file
    (see `split_stage_blocks`); they are reused instead of rendered again.
    """
    if not stages:
        return "schema: '2.0'\nstages: {}\n"
    verbatim = verbatim or {}
    blocks = (verbatim.get(name) or _render_stage_block(name, e) for name, e in stages.items())
    return LOCK_HEADER + "".join(blocks)


def split_stage_blocks(text: str) -> dict[str, str]:
    """The text of each stage entry of a canonical dvc.lock, by stage name.

    Anything unexpected (comments, other top-level keys, flow style, anchors and
    aliases, which tie one entry's text to another's) gives an empty result, and
    callers then render every entry afresh.
    """
    if not text.startswith(LOCK_HEADER) or _NODE_PROPERTY.search(text):
        return {}
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text[len(LOCK_HEADER) :].splitlines(keepends=True):
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
    except LlmpipeError:  # an odd key only means no reuse
        return None
    return value if isinstance(value, str) else None
