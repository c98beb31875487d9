"""Metrics (and params and plots) files: parse them by extension and flatten them.

The format follows the extension, as in DVC: `.json`, `.toml`, `.csv`, `.tsv`,
and YAML for anything else (YAML 1.2 rules, as DVC's ruamel). A table's values
become numbers where they read as numbers. `flatten` turns nested mappings into
dotted keys the way `dvc metrics show` prints them. Every failure is a
`FileProblem` naming the file (and the revision, when there is one).
"""

from __future__ import annotations

import io
import json
import posixpath
import sys
from collections.abc import Mapping
from typing import Any

from .errors import FileProblem, LlmpipeError


def parse_data(content: bytes, path: str, rev: str | None = None) -> Any:
    """Parsed content of the file `path` (at revision `rev`), chosen by its extension."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(f"{_where(path, rev)} is not UTF-8 text") from None
    return parse_text(text, path, rev)


def parse_tree_file(tree: Any, relpath: str) -> Any:
    """`parse_data` of the file at `relpath` of a commit's tree (a `RevTree`), for its
    `parse_once`: the stage loader (`vars`) and `compare` read params files alike, and
    share one parse per content. The result is shared: copy it before changing it.

    FileProblem when the file is absent, or starts with a byte-order mark (the two
    readers decode that differently: each then parses it itself).
    """
    content = tree.read_bytes(relpath)
    if content is None or content.startswith(b"\xef\xbb\xbf"):
        raise FileProblem(f"'{relpath}' is read by each reader")
    return parse_data(content, relpath)


def parse_text(text: str, path: str, rev: str | None = None) -> Any:
    """`parse_data` of text already decoded (params files are read this way too).

    Messages name `path` as spec errors do (`p.json:1:7: …`), or `'path' at rev`.
    """
    ext = posixpath.splitext(path)[1].lower()
    if ext == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileProblem(_json_problem(path, rev, exc)) from None
    if ext == ".toml":
        return _parse_toml(text, _where(path, rev))
    if ext in (".csv", ".tsv"):
        return _parse_table(text, "\t" if ext == ".tsv" else ",", _where(path, rev))
    from .yamlio import load_yaml

    try:
        return load_yaml(text, path if rev is None else f"{path} at {rev}")
    except LlmpipeError as exc:
        raise FileProblem(str(exc)) from None


def parse_plot_data(content: bytes, path: str, rev: str | None = None, header: bool = True) -> Any:
    """A plots file's data as dvc reads it: CSV/TSV rows keep their text ("0.5"), and a
    table without a header row (`header: false`) names its columns "0", "1", …"""
    ext = posixpath.splitext(path)[1].lower()
    if ext not in (".csv", ".tsv"):
        return parse_data(content, path, rev)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem(f"{_where(path, rev)} is not UTF-8 text") from None
    import csv

    delimiter = "\t" if ext == ".tsv" else ","
    names = None
    if not header:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        names = [str(index) for index in range(len(first))]
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter, fieldnames=names))


def _where(path: str, rev: str | None) -> str:
    return path if rev is None else f"'{path}' at {rev}"


def _json_problem(path: str, rev: str | None, exc: json.JSONDecodeError) -> str:
    if rev is None:
        return f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
    return f"{_where(path, rev)}: invalid JSON at line {exc.lineno}: {exc.msg}"


def read_data_file(path: str, shown: str | None = None) -> Any:
    """The parsed content of the workspace file `path` (`shown` names it in messages)."""
    shown = shown or path
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise FileProblem(f"'{shown}' does not exist") from None
    except OSError as exc:
        raise FileProblem(f"cannot read '{shown}': {exc.strerror or exc}") from None
    return parse_data(content, shown)


def read_metrics(path: str, shown: str | None = None) -> Mapping[str, Any]:
    """The workspace metrics file `path` as a mapping (see `as_mapping`); FileProblem if not."""
    shown = shown or path
    return as_mapping(read_data_file(path, shown), f"'{shown}'")


def _parse_toml(text: str, where: str) -> Any:
    # Imported here: params.yaml is read on every repro, TOML files rarely.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: the same parser, as a package (a dependency there)
        import tomli as tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileProblem(f"{where}: invalid TOML: {exc}") from None


def _parse_table(text: str, delimiter: str, where: str) -> list[dict[str, Any]]:
    import csv

    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise FileProblem(f"{where}: empty table (expected a header row)")
    rows = []
    for row in reader:
        if None in row or any(value is None for value in row.values()):
            raise FileProblem(f"{where}: line {reader.line_num} has the wrong number of fields")
        rows.append({key: to_number(value) for key, value in row.items()})
    return rows


def to_number(value: str) -> Any:
    """'3' → 3, '0.5' → 0.5, anything else unchanged."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def as_mapping(data: Any, where: str) -> Mapping[str, Any]:
    """Metrics/params data as a mapping: a one-row table counts as a mapping."""
    if data is None:
        return {}
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0]
    if not isinstance(data, dict):
        raise FileProblem(f"{where}: expected a mapping of names to values")
    return data


def flatten(data: Mapping[str, Any], keep_lists: bool = False) -> dict[str, Any]:
    """Nested mappings as {"a.b.c": value}; lists are values, or dropped without keep_lists."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, inner in flatten(value, keep_lists).items():
                flat[f"{key}.{sub}"] = inner
        elif keep_lists or not isinstance(value, list):
            flat[str(key)] = value
    return flat


def metric_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What dvc keeps of a metrics file: numbers, booleans and text at any depth.

    Lists, nulls and mappings left empty by that are dropped, as `dvc metrics show`
    drops them.
    """
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            value = metric_values(value)
            if not value:
                continue
        elif not isinstance(value, int | float | str):
            continue
        kept[key] = value
    return kept
