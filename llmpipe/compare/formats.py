"""Parse metrics, params and plot files (JSON, YAML, TOML, CSV, TSV) and flatten them.

`read_tracked` finds a file's bytes at a revision: in git, else (for a cached
output) in the cache through the hash the revision's dvc.lock records.
Every failure is a `FileProblem` value so one bad file never hides the others.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import FileProblem, LlmpipeError

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from .pipeline import TrackedFile, Tree


def read_tracked(tree: Tree, tracked: TrackedFile, odb: ObjectDB | None, rev: str) -> bytes:
    """The bytes of `tracked` at `rev`; FileProblem when neither git nor the cache has it."""
    content = tree.read_bytes(tracked.path)
    if content is not None:
        return content
    info = tracked.hash_info
    if info is not None and not info.isdir and odb is not None and odb.exists(info.value):
        with open(odb.oid_path(info.value), "rb") as handle:
            return handle.read()
    if info is not None:
        raise FileProblem(
            f"'{tracked.path}' at {rev} is not in the cache ({info.name} {info.value});"
            " run 'llmpipe pull' (or 'dvc pull') to fetch it"
        )
    if tracked.cached and tree.commit is not None:
        raise FileProblem(
            f"'{tracked.path}' at {rev} is a cached output with no dvc.lock entry;"
            " run the pipeline and commit dvc.lock"
        )
    raise FileProblem(f"'{tracked.path}' does not exist at {rev}")


def parse_data(content: bytes, path: str, rev: str) -> Any:
    """Parsed content of `path`, chosen by its extension (YAML when unknown)."""
    ext = posixpath.splitext(path)[1].lower()
    where = f"'{path}' at {rev}"
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(f"{where} is not UTF-8 text") from None
    if ext == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileProblem(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if ext == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise FileProblem(f"{where}: invalid TOML: {exc}") from None
    if ext in (".csv", ".tsv"):
        return _parse_table(text, "\t" if ext == ".tsv" else ",", where)
    from ..yamlio import load_yaml

    try:
        return load_yaml(text, f"{path} at {rev}")
    except LlmpipeError as exc:
        raise FileProblem(str(exc)) from None


def _parse_table(text: str, delimiter: str, where: str) -> list[dict[str, Any]]:
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


def flatten(data: Mapping[str, Any], keep_lists: bool) -> dict[str, Any]:
    """Nested mappings as {"a.b.c": value}; lists are values, or dropped without keep_lists."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            for sub, inner in flatten(value, keep_lists).items():
                flat[f"{key}.{sub}"] = inner
        elif keep_lists or not isinstance(value, list):
            flat[str(key)] = value
    return flat


def prune_lists(data: Any) -> Any:
    """Nested data without list values (metrics are scalars)."""
    if isinstance(data, Mapping):
        return {k: prune_lists(v) for k, v in data.items() if not isinstance(v, list)}
    return data
