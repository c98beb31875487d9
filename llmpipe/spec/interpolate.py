"""`${...}` templating of dvc.yaml, with DVC 3's rules.

- `${a.b}`, `${a[0]}` and `${a.0}` select from the variables; a string that is
  exactly one `${x}` keeps x's type, an embedded one is rendered as text (bools
  as `true`/`false`); `\\${x}` is a literal `${x}`.
- Only scalars may be interpolated, except a dict inside `cmd` (rendered as
  `--key value` flags) and anything in `foreach`/`matrix`.
- Values read from files remember their source, so a stage can report which
  params it used (DVC shows these in `params diff`; it does not lock them).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from ..errors import InterpolationError

_EXPR = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
_SCALARS = (str, int, float, bool, bytes)


class Context:
    """Variables visible to a stage: values plus the file each top-level path came from.

    `sources` maps a dotted path ("train" or "train.lr") to the repo-relative
    file it was loaded from; local `vars` entries have no source.
    `imports` maps a loaded file to the keys taken from it (None: the whole file).
    `used`, while a stage resolves, collects the values it read, by source file.
    A slotted class, not a dataclass (~0.3 ms at start-up); nothing compares contexts.
    """

    __slots__ = ("data", "sources", "imports", "reserved", "used")

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        sources: dict[str, str] | None = None,
        imports: dict[str, list[str] | None] | None = None,
        reserved: frozenset[str] = frozenset(),
    ) -> None:
        self.data = {} if data is None else data
        self.sources = {} if sources is None else sources
        self.imports = {} if imports is None else imports
        self.reserved = reserved
        self.used: dict[str, dict[str, Any]] | None = None

    def clone(self) -> Context:
        """A copy whose merges do not touch this one (values are shared, never mutated)."""
        return Context(
            _copy_dicts(self.data), dict(self.sources), dict(self.imports), self.reserved
        )

    def merge(self, update: dict[str, Any], source: str | None, origin: str) -> None:
        """Merge `update` in; redefining a scalar already present is an error, as in DVC."""
        clash = self.reserved & update.keys()
        if clash:
            raise InterpolationError(
                f"{origin} may not define the reserved key(s) {', '.join(sorted(clash))}"
            )
        _merge_into(self.data, update, "", source, origin, self.sources)

    def select(self, expr: str) -> Any:
        """The value at dotted/indexed `expr`; raises InterpolationError naming the key."""
        parts = _parse_expr(expr)
        value: Any = self.data
        for depth, part in enumerate(parts):
            value = _step(value, part, parts[:depth])
        self._track(parts, value)
        return value

    def _track(self, parts: list[str], value: Any) -> None:
        if self.used is None or isinstance(value, dict):
            return
        for end in range(len(parts), 0, -1):
            source = self.sources.get(".".join(parts[:end]))
            if source is not None:
                self.used.setdefault(source, {})[".".join(parts)] = value
                return


def _copy_dicts(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy_dicts(v) if isinstance(v, dict) else v for k, v in data.items()}


def _merge_into(
    into: dict[str, Any],
    update: dict[str, Any],
    prefix: str,
    source: str | None,
    origin: str,
    sources: dict[str, str],
) -> None:
    for key, value in update.items():
        if not isinstance(key, str):
            continue  # DVC ignores non-string keys for interpolation
        path = f"{prefix}{key}"
        existing = into.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            _merge_into(existing, value, f"{path}.", source, origin, sources)
            continue
        if key in into:
            raise InterpolationError(
                f"cannot redefine '{path}' from {origin} as it is already defined"
                f" in {_source_of(sources, path)}; rename one of them"
            )
        into[key] = _copy_dicts(value) if isinstance(value, dict) else value
        if source is not None:
            sources[path] = source


def _source_of(sources: dict[str, str], path: str) -> str:
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        found = sources.get(".".join(parts[:end]))
        if found:
            return f"'{found}'"
    return "an inline 'vars' entry"


def _parse_expr(expr: str) -> list[str]:
    """Split `a.b[0].c` into ['a', 'b', '0', 'c']; raise on malformed syntax."""
    parts: list[str] = []
    for raw in re.split(r"\.|(?=\[)", expr):
        piece = raw
        if piece.startswith("["):
            if not piece.endswith("]") or len(piece) < 3:
                raise InterpolationError(f"malformed expression '${{{expr}}}'")
            piece = piece[1:-1]
        if not piece.strip() or "[" in piece or "]" in piece:
            raise InterpolationError(f"malformed expression '${{{expr}}}'")
        parts.append(piece.strip())
    return parts


def _step(value: Any, part: str, done: list[str]) -> Any:
    here = ".".join(done)
    if isinstance(value, dict):
        if part in value:
            return value[part]
        raise InterpolationError(_missing_message(part, here, value), key=".".join([*done, part]))
    if isinstance(value, list):
        try:
            return value[int(part)]
        except (ValueError, IndexError):
            raise InterpolationError(
                f"index '{part}' is not valid for the list '{here}' of {len(value)} items",
                key=".".join([*done, part]),
            ) from None
    raise InterpolationError(
        f"'{here}' is a {type(value).__name__}, it has no key '{part}'",
        key=".".join([*done, part]),
    )


def _missing_message(part: str, here: str, value: dict[str, Any]) -> str:
    full = f"{here}.{part}" if here else part
    keys = [str(k) for k in value]
    import difflib  # only for this message: not on every load

    close = difflib.get_close_matches(part, keys, n=3)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    available = ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "")
    where = f"in '{here}'" if here else "in vars or params.yaml"
    return f"could not find '{full}' {where}{hint}; available: {available or 'none'}"


def has_template(value: str) -> bool:
    return "${" in value


def resolve(value: Any, ctx: Context, key: str | None = None) -> Any:
    """Resolve every `${...}` in `value` (dict keys too); `key` is the stage field."""
    if isinstance(value, str):
        return resolve_str(value, ctx, key)
    if isinstance(value, dict):
        return {resolve(k, ctx, key): resolve(v, ctx, key) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(item, ctx, key) for item in value]
    return value


def resolve_str(text: str, ctx: Context, key: str | None = None) -> Any:
    """One string: exact `${x}` keeps its type, otherwise the result is text."""
    if "${" not in text:
        return text
    matches = list(_EXPR.finditer(text))
    if len(matches) == 1 and matches[0].group(0) == text:
        value = ctx.select(matches[0]["inner"])
        _check_type(value, key)
        return value
    pieces: list[str] = []
    index = 0
    for match in matches:
        value = ctx.select(match["inner"])
        _check_type(value, key)
        pieces.append(text[index : match.start()] + to_str(value))
        index = match.end()
    pieces.append(text[index:])
    return "".join(pieces).replace("\\${", "${")


def _check_type(value: Any, key: str | None) -> None:
    if value is None or isinstance(value, _SCALARS):
        return
    if key is None or "foreach" in key or (key == "cmd" and isinstance(value, dict)):
        return
    raise InterpolationError(
        f"cannot interpolate data of type '{type(value).__name__}' into '{key}'"
        "; select a single value, e.g. ${name.key} or ${name[0]}"
    )


def to_str(value: Any) -> str:
    """Render a value embedded in a string the way DVC does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return _dict_to_flags(value)
    return str(value)


def _dict_to_flags(value: dict[str, Any]) -> str:
    """`{lr: 0.1, fast: true, names: [a, b]}` -> `--lr 0.1 --fast --names a b`."""
    words: list[str] = []
    for name, item in _flatten(value, ""):
        if isinstance(item, bool):
            if item:
                words.append(f"--{name}")
        elif isinstance(item, str):
            words.append(f"--{name} {shlex.quote(item)}")
        elif isinstance(item, list):
            words.append(f"--{name} " + " ".join(_list_word(name, i) for i in item))
        else:
            words.append(f"--{name} {item}")
    return " ".join(words)


def _list_word(name: str, item: Any) -> str:
    if isinstance(item, list | dict):
        raise InterpolationError(f"cannot interpolate nested iterable in '{name}'")
    return shlex.quote(item) if isinstance(item, str) else str(item)


def _flatten(value: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        if isinstance(item, dict) and item:
            yield from _flatten(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def check_syntax(value: Any) -> None:
    """Raise InterpolationError for a malformed `${...}` anywhere in `value`."""
    if isinstance(value, str):
        for match in _EXPR.finditer(value):
            _parse_expr(match["inner"])
    elif isinstance(value, dict):
        for k, v in value.items():
            check_syntax(k)
            check_syntax(v)
    elif isinstance(value, list):
        for item in value:
            check_syntax(item)
