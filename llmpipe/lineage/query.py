"""Questions asked of the lineage store: who produced this artifact, and from what.

An artifact is named by its repository-relative path and, optionally, its hash.
A path inside a directory output (`data/prepared/train.parquet` of the output
`data/prepared`) is produced by the run that wrote the directory. Records do not
hold directory manifests, so for such a path a given hash cannot be checked:
the latest run that wrote the directory (before the consumer started, when
walking a chain) is taken as its producer.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

from .record import ArtifactRef, RunRecord
from .store import LineageStore

RecordSource = LineageStore | Iterable[RunRecord]


class Trace(NamedTuple):
    """The runs behind an artifact, upstream first, and the raw inputs they started from.

    `raw_inputs` are the deps of those runs that no recorded run produced
    (source data, code), sorted by path.
    """

    runs: list[RunRecord]
    raw_inputs: list[ArtifactRef]


def normalize_path(path: str) -> str:
    """A repository-relative path in the form records use: posix, no `./`, no trailing `/`."""
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/")


class ProducerIndex:
    """Successful runs by the repository-relative path of each output, newest first."""

    def __init__(self, records: Iterable[RunRecord]) -> None:
        self._by_path: dict[str, list[tuple[RunRecord, ArtifactRef]]] = {}
        for record in sorted(records, key=lambda r: r.started_at, reverse=True):
            if not record.succeeded:
                continue
            for out in record.outs:
                self._by_path.setdefault(normalize_path(out.path), []).append((record, out))

    def find(
        self, path: str, hash: str | None = None, before: datetime | None = None
    ) -> RunRecord | None:
        """The latest run that produced `path` (with `hash` when given, and checkable).

        With `before`, runs that ended by then are preferred; a run that ended later
        is returned only when its output hash matches `hash` (same content).
        """
        path = normalize_path(path)
        exact = self._by_path.get(path)
        if exact is not None:
            matches = [run for run, out in exact if hash is None or out.hash == hash]
            verified = hash is not None
        else:
            matches = [run for run, _out in self._inside_directory_output(path)]
            verified = False
        earlier = [run for run in matches if before is None or run.ended_at <= before]
        if earlier:
            return earlier[0]
        return matches[0] if verified and matches else None

    def _inside_directory_output(self, path: str) -> list[tuple[RunRecord, ArtifactRef]]:
        output = self.output_path(path)
        return self._by_path[output] if output is not None else []

    def output_path(self, path: str) -> str | None:
        """The recorded output that is `path` or holds it (a directory output); None if none.

        The nearest produced ancestor wins: outputs never overlap in a valid pipeline.
        """
        path = normalize_path(path)
        if path in self._by_path:
            return path
        return next((parent for parent in _ancestors(path) if parent in self._by_path), None)

    def outputs_of(self, path: str) -> list[ArtifactRef]:
        """What the successful runs wrote at output `path`, newest first (one per run)."""
        return [out for _run, out in self._by_path.get(normalize_path(path), [])]


def _ancestors(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _records(source: RecordSource) -> list[RunRecord]:
    return source.read() if isinstance(source, LineageStore) else list(source)


def producer_of(source: RecordSource, path: str, hash: str | None = None) -> RunRecord | None:
    """The latest successful run whose outputs include `path` (with `hash` when given).

    `source` is a store or any iterable of records. None when no run produced it.
    """
    return ProducerIndex(_records(source)).find(path, hash)


def trace(source: RecordSource | ProducerIndex, path: str, hash: str | None = None) -> Trace:
    """Walk upstream from `path` through each dep to the runs that produced it.

    Runs come deduplicated in topological order, upstream first: each run follows
    the runs that produced its deps, and the producer of `path` is last. Each dep
    links to its latest producer that ended before the consuming run started.
    Empty when no recorded run produced `path`. `source` may be an index already built.
    """
    index = source if isinstance(source, ProducerIndex) else ProducerIndex(_records(source))
    root = index.find(path, hash)
    if root is None:
        return Trace([], [])
    ordered: list[RunRecord] = []
    raw: dict[tuple[str, str | None], ArtifactRef] = {}
    seen = {root.run_id}
    # Iterative post-order DFS: a run is emitted after every run that produced its deps.
    stack: list[tuple[RunRecord, Iterator[ArtifactRef]]] = [(root, iter(root.deps))]
    while stack:
        run, pending = stack[-1]
        dep = next(pending, None)
        if dep is None:
            ordered.append(stack.pop()[0])
            continue
        producer = index.find(dep.path, dep.hash, before=run.started_at)
        if producer is None:
            raw[(normalize_path(dep.path), dep.hash)] = dep
        elif producer.run_id not in seen:
            seen.add(producer.run_id)
            stack.append((producer, iter(producer.deps)))
    return Trace(ordered, sorted(raw.values(), key=lambda ref: (ref.path, ref.hash or "")))


def chain(source: RecordSource, path: str, hash: str | None = None) -> list[RunRecord]:
    """The runs behind `path`, upstream first (see `trace`); [] when nothing produced it."""
    return trace(source, path, hash).runs
