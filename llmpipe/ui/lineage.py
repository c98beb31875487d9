"""The lineage page: the records of the store, and walks from one artifact both ways.

Upstream is `lineage.trace` (the runs behind an artifact, back to the raw inputs
no run produced). Downstream walks the other way: the runs that read the
artifact, what they wrote, the runs that read that, and so on. A run reads an
artifact when one of its deps is the artifact's path with the same hash, or a
folder holding it (or a file inside it) read after the artifact was written.

The store is read once per change: `RecordCache` keeps the parsed records while
the store's files (committed and pending) stay the same.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from ..lineage.query import normalize_path, trace

if TYPE_CHECKING:
    from ..lineage.record import ArtifactRef, RunRecord
    from ..lineage.store import LineageStore
    from .graph_svg import Node

MAX_DERIVED_RUNS = 500  # found by a walk
SHOWN_DERIVED_RUNS = 50  # listed on the page
DRAWN_DERIVED_RUNS = 12  # drawn in its graph


class RecordCache:
    """Every lineage record, newest first, parsed again only when the store changed."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._records: list[RunRecord] = []
        self._warnings: list[str] = []
        self._mutex = threading.Lock()

    def records(self, store: LineageStore) -> tuple[list[RunRecord], list[str]]:
        """The records and the store's warnings (files it had to skip)."""
        with self._mutex:
            key = _fingerprint(store)
            if key != self._key:
                self._records = store.read()
                self._warnings = list(store.warnings)
                self._key = _fingerprint(store)  # reading moved finished journals to Parquet
            return self._records, self._warnings


def _fingerprint(store: LineageStore) -> tuple[object, ...]:
    """Names, sizes and times of every file of the store: any append changes it."""
    found = []
    for directory, _dirs, names in os.walk(store.path):
        for name in names:
            path = os.path.join(directory, name)
            try:
                stat = os.stat(path)
            except OSError:
                continue
            found.append((path, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def latest_by_address(records: Sequence[RunRecord]) -> dict[str, RunRecord]:
    """Each stage address's latest record (records come newest first)."""
    from .pipeline import record_address

    latest: dict[str, RunRecord] = {}
    for record in records:
        latest.setdefault(record_address(record), record)
    return latest


@dataclass
class Walk:
    """The runs behind an artifact (upstream first, its producer last), the raw inputs
    they started from, and the runs derived from it (in the order they started)."""

    path: str
    hash: str | None
    upstream: list[RunRecord] = field(default_factory=list)
    raw_inputs: list[ArtifactRef] = field(default_factory=list)
    downstream: list[RunRecord] = field(default_factory=list)
    truncated: bool = False

    @property
    def producer(self) -> RunRecord | None:
        return self.upstream[-1] if self.upstream else None

    @property
    def shown_downstream(self) -> list[RunRecord]:
        return self.downstream[:SHOWN_DERIVED_RUNS]


def walk(
    records: Sequence[RunRecord],
    path: str,
    hash: str | None = None,
    limit: int = MAX_DERIVED_RUNS,
) -> Walk:
    """Both directions from `path` (with `hash`, the version recorded with that hash);
    the downstream walk stops after `limit` runs."""
    path = normalize_path(path)
    behind = trace(records, path, hash)
    result = Walk(path, hash, behind.runs, behind.raw_inputs)
    since = result.producer.ended_at if result.producer else None
    result.downstream, result.truncated = derived(records, path, hash, since, limit)
    return result


def derived(
    records: Sequence[RunRecord],
    path: str,
    hash: str | None,
    since: datetime | None,
    limit: int = MAX_DERIVED_RUNS,
) -> tuple[list[RunRecord], bool]:
    """Runs that read `path` (at `hash`), directly or through what they wrote.

    Returns them in the order they started, and whether `limit` cut the walk short.
    """
    readers = _ReaderIndex(records)
    found: dict[str, RunRecord] = {}
    pending = [(path, hash, since)]
    while pending and len(found) < limit:
        artifact, digest, after = pending.pop()
        for run in readers.of(artifact, digest, after):
            if run.run_id not in found:
                found[run.run_id] = run
                pending.extend((normalize_path(o.path), o.hash, run.ended_at) for o in run.outs)
    ordered = sorted(found.values(), key=lambda r: r.started_at)
    return ordered[:limit], bool(pending)


class _ReaderIndex:
    """Successful runs by the path of each dep they read."""

    def __init__(self, records: Sequence[RunRecord]) -> None:
        self.by_path: dict[str, list[tuple[RunRecord, ArtifactRef]]] = {}
        for record in records:
            if record.succeeded:
                for dep in record.deps:
                    self.by_path.setdefault(normalize_path(dep.path), []).append((record, dep))
        self.paths = sorted(self.by_path)

    def of(self, path: str, digest: str | None, after: datetime | None) -> list[RunRecord]:
        """Runs that read `path` at `digest`; or a folder holding it, or a file inside it,
        after `after` (a folder and a file in it have no hash to compare: time decides)."""
        runs = [
            run
            for run, dep in self.by_path.get(path, ())
            if (dep.hash == digest and digest is not None) or _later(run, after, digest, dep)
        ]
        if after is not None:
            related = [*_ancestors(path), *self._inside(path)]
            near = (run for p in related for run, _ in self.by_path.get(p, ()))
            runs += [run for run in near if run.started_at >= after]
        return runs

    def _inside(self, folder: str) -> list[str]:
        prefix = folder + "/"
        start = bisect.bisect_left(self.paths, prefix)
        found = []
        for candidate in self.paths[start:]:
            if not candidate.startswith(prefix):
                break
            found.append(candidate)
        return found


def _later(run: RunRecord, after: datetime | None, digest: str | None, dep: ArtifactRef) -> bool:
    """A read of the path whose hash cannot be compared, after the artifact was written."""
    unknown = digest is None or dep.hash is None
    return unknown and (after is None or run.started_at >= after)


def _ancestors(path: str) -> list[str]:
    found = []
    parent = posixpath.dirname(path)
    while parent:
        found.append(parent)
        parent = posixpath.dirname(parent)
    return found


def starting_points(records: Sequence[RunRecord], limit: int = 40) -> list[ArtifactRef]:
    """Outputs of recent runs, each path once (its latest version), newest first."""
    seen: dict[str, ArtifactRef] = {}
    for record in records:
        if record.succeeded:
            for out in record.outs:
                seen.setdefault(normalize_path(out.path), out)
        if len(seen) >= limit:
            break
    return list(seen.values())


def walk_graph(result: Walk) -> str:
    """The walk as an SVG graph: runs, and the artifacts between them (the first
    `DRAWN_DERIVED_RUNS` derived runs: a file a thousand runs read is no picture).

    Inputs no run of the walk produced (code, raw data) are drawn one by one when a
    run has two or fewer, else as one node per run that lists them.
    """
    from urllib.parse import urlencode

    from .graph_svg import Node, render
    from .pipeline import record_address

    runs = [*result.upstream, *result.downstream[:DRAWN_DERIVED_RUNS]]
    produced = {normalize_path(o.path) for run in runs for o in run.outs} | {result.path}
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []

    def artifact(ref: ArtifactRef) -> str:
        node_id = f"a:{ref.path}@{ref.hash}"
        if node_id not in nodes:
            href = "/lineage?" + urlencode({"path": ref.path, "hash": ref.hash or ""})
            css = "artifact focus" if normalize_path(ref.path) == result.path else "artifact"
            nodes[node_id] = Node(node_id, ref.path, ref.short_hash, css, href)
        return node_id

    for run in runs:
        run_id = f"r:{run.run_id}"
        raw = [d for d in run.deps if normalize_path(d.path) not in produced]
        inputs = [artifact(d) for d in run.deps if d not in raw or len(raw) <= 2]
        if len(raw) > 2:
            grouped = _inputs_node(run, raw)
            nodes[grouped.id] = grouped
            inputs.append(grouped.id)
        label = f"{record_address(run)} ({run.status})"
        note = f"{run.user}@{run.host} {run.started_at:%Y-%m-%d %H:%M}"
        nodes[run_id] = Node(run_id, label, note, f"run run-{run.status}")
        edges.extend((node, run_id) for node in inputs)
        edges.extend((run_id, artifact(out)) for out in run.outs)
    return render(_parents_first(list(nodes.values()), edges), edges, "graph lineage-graph")


def _inputs_node(run: RunRecord, raw: list[ArtifactRef]) -> Node:
    from .graph_svg import Node

    paths = [ref.path for ref in raw]
    folder = posixpath.commonpath(paths)
    note = f"in {folder}/" if folder else ""
    return Node(f"i:{run.run_id}", f"{len(raw)} inputs", note, "inputs", None, "\n".join(paths))


def _parents_first(nodes: list[Node], edges: list[tuple[str, str]]) -> list[Node]:
    """`nodes` with each after its parents (the layout needs that order)."""
    parents: dict[str, set[str]] = {n.id: set() for n in nodes}
    for parent, child in edges:
        parents[child].add(parent)
    ordered: list[Node] = []
    placed: set[str] = set()
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if parents[n.id] <= placed] or pending[:1]
        ordered.extend(ready)
        placed.update(n.id for n in ready)
        pending = [n for n in pending if n.id not in placed]
    return ordered
