"""A small, exact writer for the shapes of a dvc.lock entry, without importing ruamel.

DVC writes dvc.lock through ruamel (block style, width 80, YAML 1.2), and importing
ruamel costs ~14 ms: most of what a one-stage `repro` spends writing the lock. The
values of a lock entry are few: mappings with string keys, lists, strings, integers,
floats, booleans and None. `stage_block` renders those exactly as ruamel does, and
returns None for anything it cannot prove it renders identically (a string ruamel
would fold, double-quote or escape; a key that is not a string; another type), so the
caller falls back to ruamel for that entry. tests/test_yamlemit.py compares it with
ruamel on many generated values.

Everything this module renders also reads back (through `yamlio`'s YAML 1.2 reader)
as the very value it was given, which is what lets the lock writer hand the parse memo
the data of the text it wrote.
"""

from __future__ import annotations

import math
import re
from typing import Any

WIDTH = 80  # ruamel's best_width: it folds a scalar at a space past this column

# The implicit types of ruamel's YAML 1.2 resolver (the YAML 1.2 core schema, plus
# `=` and the node-property characters ruamel also resolves): a string that
# matches one of them must be quoted to stay a string.
_NOT_A_STRING = re.compile(
    r"""^(?:true|True|TRUE|false|False|FALSE
    |[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+
    |<<|~|null|Null|NULL|=|!|&|\*)$""",
    re.X,
)
# Strings proven to be written plain when they are not another type: a safe first
# character, then no `: `, ` #`, tab or line break, and no space at either end.
_PLAIN = re.compile(r"^(?:[A-Za-z0-9_/.~+]|-(?=[^\s]))(?:[^\s:#'\"]|[:#'\"](?!\s)| (?![ #]|$))*$")
# ruamel's timestamps are a narrower pattern than this: such strings are left to it.
_DATE_LIKE = re.compile(r"^[0-9][0-9][0-9][0-9]-")
_FLOAT_TEXT = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?(?:e[-+][0-9]+)?$")


def _printable(text: str) -> bool:
    """Characters ruamel writes as they are (anything else it escapes in double quotes)."""
    return all(" " <= ch <= "~" or ("\xa0" <= ch <= "\ud7ff" and ch.isprintable()) for ch in text)


def _string(text: str, column: int, key: bool) -> str | None:
    """`text` as ruamel writes it starting at `column`, or None when unsure."""
    if not _printable(text) or text.startswith(("---", "...")) or _DATE_LIKE.match(text):
        return None
    # A key is never folded; a value past the line's width may be folded at a space,
    # or moved to a line of its own.
    if not key and column + len(text) + 2 > WIDTH:
        return None
    if _NOT_A_STRING.match(text) or text == "":
        return None if key or "'" in text else f"'{text}'"
    if _PLAIN.match(text) and not text.endswith(":"):
        return text
    return None


def _scalar(value: Any, column: int) -> str | None:
    """A non-string scalar value's text, or the string's (see `_string`)."""
    kind = type(value)  # exactly: ruamel writes its own str, int and float kinds its way
    if kind is str:
        return _string(value, column, key=False)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        return text if _FLOAT_TEXT.match(text) else None
    return None


def _mapping(data: dict, indent: int, out: list[str]) -> bool:
    for key, value in data.items():
        if type(key) is not str or not 0 < len(key) <= 64:
            return False
        name = _string(key, indent, key=True)
        if name is None or not _member(f"{name}:", value, indent, out):
            return False
    return True


def _sequence(items: list, indent: int, out: list[str]) -> bool:
    return all(_member("-", item, indent, out) for item in items)


def _member(head: str, value: Any, indent: int, out: list[str]) -> bool:
    """Write `head` (`key:` or `-`) at `indent`, and its value.

    A mapping under a key goes two columns in, a list under a key stays at the key's
    indent (as DVC's lock has it); under `-`, ruamel starts the collection on the
    dash's own line.
    """
    dash = head == "-"
    line = " " * indent + head
    if value is None:
        out.append(line + (" " if dash else ""))
        return True
    if type(value) not in (dict, list):
        text = _scalar(value, len(line) + 1)
        out.append(f"{line} {text}")
        return text is not None
    if not value:
        out.append(line + (" {}" if isinstance(value, dict) else " []"))
        return True
    inner = indent + 2 if dash or isinstance(value, dict) else indent
    start = len(out)
    if not (_mapping if isinstance(value, dict) else _sequence)(value, inner, out):
        return False
    if dash:
        out[start] = line + " " + out[start][inner:]
    else:
        out.insert(start, line)
    return True


def stage_block(name: str, entry: dict[str, Any]) -> str | None:
    """Stage `name`'s dvc.lock block (`  name:` and its lines), or None when unsure."""
    out: list[str] = []
    if type(entry) is not dict or not _mapping({name: entry}, 2, out):
        return None
    return "\n".join(out) + "\n"
