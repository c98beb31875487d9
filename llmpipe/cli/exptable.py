"""`exp show`'s table from the states `ops.exp.show` returns, laid out as dvc lays it out.

Columns: Experiment, Created, every metric, every param (a key is prefixed with
its file when two files share it), every dep's hash. CSV adds dvc's rev, typ
and parent columns and ISO times; `--only-changed` drops the columns whose
cells are all the same; `--sort-by` orders each baseline's experiments.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..errors import LlmpipeError
from ..metrics import flatten

if TYPE_CHECKING:
    from ..ops.exp.show import ExpRange, ExpState

FILL = "-"
ERRORED = "!"
_TREE = {"branch_commit": "├──", "branch_base": "└──", "baseline": ""}


@dataclass(frozen=True)
class TableOptions:
    precision: int | None = 5
    csv: bool = False
    sort_by: str | None = None
    sort_order: str = "asc"
    only_changed: bool = False
    keep: tuple[str, ...] = ()  # regexes of columns kept whatever --only-changed or drop says
    drop: tuple[str, ...] = ()  # regexes of columns left out


class _Names:
    """Metric and param keys per file, in the order first seen, and the deps' paths."""

    def __init__(self, states: Iterable[ExpState]) -> None:
        self.metrics: dict[str, dict[str, None]] = {}
        self.params: dict[str, dict[str, None]] = {}
        self.deps: set[str] = set()
        for state in _all_states(states):
            if state.data:
                _add(self.metrics, state.data.metrics)
                _add(self.params, state.data.params)
                self.deps.update(state.data.deps)

    def headers(self, kind: str) -> list[tuple[str, str, str]]:
        """(path, key, header) of `kind`; a key two columns share is shown as `path:key`."""
        names = getattr(self, kind)
        count = Counter(k for n in (self.metrics, self.params) for keys in n.values() for k in keys)
        count.update(["Experiment", "rev", "typ", "Created", "parent"])
        return [(p, k, k if count[k] == 1 else f"{p}:{k}") for p in names for k in names[p]]


def _all_states(states: Iterable[ExpState]) -> Iterable[ExpState]:
    for state in states:
        yield state
        for exp_range in state.experiments or ():
            yield from exp_range.revs


def _add(found: dict[str, dict[str, None]], files: dict[str, Any]) -> None:
    for path, item in files.items():
        data = item.get("data", {})
        if isinstance(data, dict):
            found.setdefault(path, {}).update(dict.fromkeys(flatten(data, keep_lists=True)))


def tabulate(
    states: Sequence[ExpState], options: TableOptions
) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the table; rows are cell texts."""
    names = _Names(states)
    metrics, params = names.headers("metrics"), names.headers("params")
    deps = sorted(names.deps)
    headers = [*_FIXED, *(h for *_, h in metrics), *(h for *_, h in params), *deps]
    fill = "" if options.csv else FILL
    rows = []
    for state in states:
        rows.append(_row(state, "", "baseline", metrics, params, deps, options, fill))
        ranges = _sorted(state.experiments or [], names, options)
        for i, exp_range in enumerate(ranges):
            if exp_range.revs:
                kind = "branch_base" if i == len(ranges) - 1 else "branch_commit"
                head = exp_range.revs[0]
                rows.append(_row(head, head.name or "", kind, metrics, params, deps, options, fill))
    kept = _matching(headers, options.keep)
    # dvc's steps: the empty State and Executor columns go, and outside CSV the columns
    # merged into Experiment, unless --keep protects them.
    merged = set(_FIXED[5:]) | (set() if options.csv else {"rev", "typ", "parent"})
    headers, rows = _without(headers, rows, merged - kept)
    if options.only_changed:
        headers, rows = _only_changed(headers, rows, kept)
    return _without(headers, rows, _matching(headers, options.drop) - kept)


# The columns before the values, as dvc's table has them; State and Executor (of queued
# and running experiments, which llmpipe does not list) stay empty.
_FIXED = ("Experiment", "rev", "typ", "Created", "parent", "State", "Executor")


def _without(headers: list[str], rows: list[list[str]],
             dropped: set[str]) -> tuple[list[str], list[list[str]]]:  # fmt: skip
    shown = [i for i, header in enumerate(headers) if header not in dropped]
    return [headers[i] for i in shown], [[row[i] for i in shown] for row in rows]


def _matching(headers: list[str], patterns: tuple[str, ...]) -> set[str]:
    """The headers one of `patterns` matches at their start (dvc's `re.match`)."""
    if not patterns:
        return set()
    import re

    pattern = re.compile("|".join(patterns))
    return {header for header in headers if pattern.match(header)}


def _row(state: ExpState, name: str, kind: str, metrics: list, params: list, deps: list[str],
         options: TableOptions, fill: str) -> list[str]:  # fmt: skip
    rev = state.rev[:7] if _is_sha(state.rev) else state.rev
    if kind == "baseline":
        rev = state.name or rev
    data = state.data
    created = _created(data.timestamp if data else None, options.csv, fill)
    if options.csv:
        experiment = name
    else:
        shown = rev if kind == "baseline" or not name else f"{rev} [{name}]"
        experiment = f"{_TREE[kind]} {shown}" if _TREE[kind] else shown
    cells = [experiment, rev, kind, created, "", fill, fill]  # dvc leaves parent blank
    for kind_name, columns in (("metrics", metrics), ("params", params)):
        files = getattr(data, kind_name) if data else {}
        cells += [_cell(files.get(path), key, options.precision, fill) for path, key, _ in columns]
    cells += [_dep(data.deps.get(d) if data else None, fill) for d in deps]
    return cells


def _cell(item: dict[str, Any] | None, key: str, precision: int | None, fill: str) -> str:
    if item is None:
        return fill
    data = item.get("data", {})
    value = flatten(data, keep_lists=True).get(key) if isinstance(data, dict) else None
    if value is None:
        return ERRORED if item.get("error") else fill
    return format_cell(value, precision)


def format_cell(value: Any, precision: int | None) -> str:
    """dvc's cell: floats to `precision` significant digits, containers with theirs; None '-'."""
    if value is None:
        return FILL

    def shape(v: Any) -> Any:
        if isinstance(v, float) and precision:
            return _Float(f"{v:.{precision}g}")
        if isinstance(v, dict):
            return {k: shape(x) for k, x in v.items()}
        if isinstance(v, list):
            return [shape(x) for x in v]
        return v

    return str(shape(value))


class _Float(str):
    """A rounded float printed bare inside a list or dict, as dvc prints it."""

    def __repr__(self) -> str:
        return str(self)


def _dep(dep: dict[str, Any] | None, fill: str) -> str:
    return (dep or {}).get("hash") or fill


def _created(when: datetime | None, iso: bool, fill: str) -> str:
    if when is None:
        return fill
    if iso:
        return when.isoformat()
    return when.strftime("%I:%M %p" if when.date() == date.today() else "%b %d, %Y")


def _is_sha(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)


def _sorted(ranges: list[ExpRange], names: _Names, options: TableOptions) -> list[ExpRange]:
    if not options.sort_by:
        return ranges
    path, key, kind = _sort_column(options.sort_by, names)

    def value(exp_range: ExpRange) -> tuple[bool, Any]:
        head = exp_range.revs[0] if exp_range.revs else None
        files = getattr(head.data, kind) if head and head.data else {}
        data = files.get(path, {}).get("data", {})
        found = flatten(data, keep_lists=True).get(key) if isinstance(data, dict) else None
        return found is None, found

    return sorted(ranges, key=value, reverse=options.sort_order == "desc")


def _sort_column(sort_by: str, names: _Names) -> tuple[str, str, str]:
    """(path, key, 'metrics'|'params') that `sort_by` (`key` or `path:key`) names."""
    matches: set[tuple[str, str, str]] = set()
    path, sep, key = sort_by.rpartition(":")
    for kind in ("metrics", "params"):
        for file, keys in getattr(names, kind).items():
            if (sep and file == path and key in keys) or sort_by in keys:
                matches.add((file, key if sep and file == path else sort_by, kind))
    if len(matches) > 1:
        shown = ", ".join(sorted(f"{p}:{k}" for p, k, _ in matches))
        raise LlmpipeError(f"ambiguous sort column '{sort_by}': it matches {shown}")
    if not matches:
        raise LlmpipeError(f"unknown sort column '{sort_by}'")
    return matches.pop()


def _only_changed(headers: list[str], rows: list[list[str]],
                  kept: set[str]) -> tuple[list[str], list[list[str]]]:  # fmt: skip
    keep = [i for i, header in enumerate(headers)
            if len({row[i] for row in rows}) != 1 or i == 0 or header in kept]  # fmt: skip
    return [headers[i] for i in keep], [[row[i] for i in keep] for row in rows]


def to_csv(headers: list[str], rows: list[list[str]]) -> str:
    import csv  # only for --csv: not at start-up

    buffer = io.StringIO()
    writer = csv.writer(buffer)  # csv's "\r\n" line ends, as dvc's --csv has them
    writer.writerows([headers, *rows])
    return buffer.getvalue()
