"""Read the raw corpus the `data` params describe: stdlib sources, a folder, JSONL or Parquet.

Everything is read in a fixed (sorted) order so that the same source gives the
same documents on every run; the hash of what was read goes in the dataset card.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import PipelineError


@dataclass(frozen=True)
class RawDocument:
    name: str  # file path relative to the source root, or "row <n>"
    data: bytes


@dataclass(frozen=True)
class Corpus:
    kind: str
    location: str
    documents: list[RawDocument]
    source_hash: str


def read_corpus(params: dict[str, Any]) -> Corpus:
    """The raw documents selected by `params` (the `data` section); PipelineError if unusable."""
    kind = params["source"]
    location = source_location(params)
    if kind in ("stdlib", "dir"):
        documents = list(_files(Path(location), params))
    elif kind == "jsonl":
        documents = list(_jsonl_rows(location, params["text_field"]))
    else:
        documents = list(_parquet_rows(location, params["text_field"]))
    documents = _limit(documents, params["max_documents"], params["max_bytes"])
    if not documents:
        raise PipelineError(f"corpus is empty: no documents selected from {kind} '{location}'")
    return Corpus(kind, location, documents, _hash_documents(documents))


def source_location(params: dict[str, Any]) -> str:
    """Where the corpus lives; PipelineError when it does not exist or has the wrong type."""
    if params["source"] == "stdlib":
        return sysconfig.get_paths()["stdlib"]
    path = params["path"]
    if not path:
        raise PipelineError(
            f"params 'data.path' must name the corpus for source '{params['source']}'"
        )
    if not os.path.exists(path):
        raise PipelineError(f"corpus path '{path}' does not exist (params 'data.path')")
    want_dir = params["source"] == "dir"
    if want_dir != os.path.isdir(path):
        shape = "a folder" if want_dir else "a file"
        raise PipelineError(f"corpus path '{path}' must be {shape} for source '{params['source']}'")
    return path


def _files(root: Path, params: dict[str, Any]) -> Iterator[RawDocument]:
    selected: set[str] = set()
    for pattern in params["include"]:
        for path in root.glob(pattern):
            if path.is_file():
                selected.add(path.relative_to(root).as_posix())
    for relpath in sorted(selected):
        if any(fnmatch.fnmatch(relpath, pattern) for pattern in params["exclude"]):
            continue
        yield RawDocument(relpath, (root / relpath).read_bytes())


def _jsonl_rows(path: str, field: str) -> Iterator[RawDocument]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise PipelineError(f"'{path}' line {number} is not valid JSON") from None
            yield RawDocument(f"line {number}", _text_of(row, field, f"'{path}' line {number}"))


def _parquet_rows(path: str, field: str) -> Iterator[RawDocument]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for unreadable files
        raise PipelineError(f"'{path}' is not a readable Parquet file: {exc}") from None
    if field not in table.column_names:
        raise PipelineError(
            f"'{path}' has no column '{field}' (params 'data.text_field'); "
            f"columns: {', '.join(table.column_names)}"
        )
    for number, value in enumerate(table.column(field).to_pylist()):
        yield RawDocument(f"row {number}", (value or "").encode("utf-8"))


def _text_of(row: Any, field: str, where: str) -> bytes:
    if not isinstance(row, dict) or not isinstance(row.get(field), str):
        raise PipelineError(f"{where} has no string field '{field}' (params 'data.text_field')")
    return row[field].encode("utf-8")


def _limit(documents: list[RawDocument], max_documents: int, max_bytes: int) -> list[RawDocument]:
    # Documents that would overflow the byte budget are skipped, not truncated,
    # so every kept document is whole; smaller ones later in order still fit.
    kept: list[RawDocument] = []
    total = 0
    for document in documents:
        if len(kept) >= max_documents:
            break
        if total + len(document.data) <= max_bytes:
            kept.append(document)
            total += len(document.data)
    return kept


def _hash_documents(documents: list[RawDocument]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(document.data).digest())
    return digest.hexdigest()
