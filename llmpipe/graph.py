"""The stage graph: edges from producers to consumers, checks, order and selection.

The hot path (every `repro` and `status`) uses plain dicts: building a
networkx graph costs more to import than the whole no-op run should take.
`to_networkx()` offers the full library for rendering and analysis.
"""

from __future__ import annotations

import bisect
import heapq
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import GraphError, TargetError
from .stage import Stage

if TYPE_CHECKING:
    import networkx


def _ancestors_of_path(path: str) -> Iterable[str]:
    while True:
        parent = posixpath.dirname(path)
        if not parent or parent == path:  # "" for a relative path, "/" for an absolute one
            return
        yield parent
        path = parent


@dataclass
class Graph:
    """Stages by address, with `parents` (upstream) and `children` (downstream) edges."""

    stages: dict[str, Stage]
    parents: dict[str, set[str]] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)  # out path -> stage address

    def order(self, selected: Iterable[str] | None = None) -> list[str]:
        """Topological order (upstream first), stable in file order."""
        chosen = set(self.stages if selected is None else selected)
        position = {address: index for index, address in enumerate(self.stages)}
        pending = {a: len(self.parents[a] & chosen) for a in chosen}
        # A heap by file position: the earliest ready stage next, in O(n log n) (sorting
        # the ready list after every stage made 10,000 independent stages quadratic).
        ready = [(position[a], a) for a, n in pending.items() if n == 0]
        heapq.heapify(ready)
        ordered: list[str] = []
        while ready:
            _, current = heapq.heappop(ready)
            ordered.append(current)
            for child in self.children[current] & chosen:
                pending[child] -= 1
                if pending[child] == 0:
                    heapq.heappush(ready, (position[child], child))
        return ordered

    def upstream(self, address: str) -> set[str]:
        return _closure(address, self.parents)

    def downstream(self, address: str) -> set[str]:
        return _closure(address, self.children)

    def producer_of(self, path: str) -> str | None:
        """The stage whose output is `path` or contains it."""
        if path in self.producers:
            return self.producers[path]
        for ancestor in _ancestors_of_path(path):
            if ancestor in self.producers:
                return self.producers[ancestor]
        return None

    def to_networkx(self) -> networkx.DiGraph:
        import networkx

        graph = networkx.DiGraph()
        graph.add_nodes_from(self.stages)
        for child, parents in self.parents.items():
            graph.add_edges_from((parent, child) for parent in parents)
        return graph


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def build_graph(stages: Iterable[Stage]) -> Graph:
    """Build and check the graph.

    Raises GraphError for duplicate or overlapping outputs and for cycles.
    """
    by_address: dict[str, Stage] = {}
    for stage in stages:
        if stage.address in by_address:
            raise GraphError(f"stage '{stage.address}' is defined twice")
        by_address[stage.address] = stage
    graph = Graph(by_address)
    graph.parents = {address: set() for address in by_address}
    graph.children = {address: set() for address in by_address}
    _register_outputs(graph)
    _connect(graph)
    _check_acyclic(graph)
    return graph


def _register_outputs(graph: Graph) -> None:
    for address, stage in graph.stages.items():
        for out in stage.outs:
            path = stage.repo_path(out.path)
            other = graph.producers.get(path)
            if other is not None:
                raise GraphError(
                    f"output '{path}' is declared by both '{other}' and '{address}': "
                    "an output must belong to one stage"
                )
            graph.producers[path] = address
    _check_overlaps(graph.producers)


def _check_overlaps(producers: dict[str, str]) -> None:
    for path, address in producers.items():
        for ancestor in _ancestors_of_path(path):
            owner = producers.get(ancestor)
            if owner is not None:
                raise GraphError(
                    f"output '{path}' of '{address}' is inside output '{ancestor}' of "
                    f"'{owner}': outputs may not overlap; declare one of them only"
                )


def _connect(graph: Graph) -> None:
    by_prefix = sorted(graph.producers)
    for address, stage in graph.stages.items():
        for dep in stage.deps:
            path = stage.repo_path(dep.path)
            for producer in _producers_for_dep(graph, by_prefix, path):
                if producer != address:
                    graph.parents[address].add(producer)
                    graph.children[producer].add(address)


def _producers_for_dep(graph: Graph, sorted_outs: list[str], path: str) -> set[str]:
    found = set()
    direct = graph.producer_of(path)
    if direct is not None:
        found.add(direct)
    # A dependency on a directory also depends on outputs produced inside it.
    prefix = path + "/"
    index = bisect.bisect_left(sorted_outs, prefix)
    while index < len(sorted_outs) and sorted_outs[index].startswith(prefix):
        found.add(graph.producers[sorted_outs[index]])
        index += 1
    return found


def _check_acyclic(graph: Graph) -> None:
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(graph.stages, white)
    for start in graph.stages:
        if color[start] != white:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph.children[start]))]
        path = [start]
        color[start] = grey
        while stack:
            node, pending = stack[-1]
            if not pending:
                color[node] = black
                stack.pop()
                path.pop()
                continue
            child = pending.pop()
            if color[child] == grey:
                cycle = path[path.index(child) :] + [child]
                raise GraphError("pipeline has a cycle: " + " -> ".join(cycle))
            if color[child] == white:
                color[child] = grey
                path.append(child)
                stack.append((child, sorted(graph.children[child])))


def resolve_targets(
    graph: Graph, targets: Iterable[str], is_stageless_file: Callable[[str], bool] | None = None
) -> list[str]:
    """Stage addresses for user targets: `train`, `train@lr1`, `dvc.yaml:train`, `sub/dvc.yaml`.

    A foreach/matrix group name (`train`) selects every generated stage; a
    dvc.yaml path selects all of its stages; a `.dvc` file selects its data. A
    target that matches nothing is an error unless `is_stageless_file` says it
    names a dvc.yaml without stages (`stages: {}`), which dvc accepts.
    """
    resolved: list[str] = []
    for target in targets:
        matches = _match_target(graph, target)
        if not matches and not (is_stageless_file and is_stageless_file(target)):
            raise TargetError(_unknown_target_message(graph, target))
        resolved.extend(m for m in matches if m not in resolved)
    return resolved


def _match_target(graph: Graph, target: str) -> list[str]:
    target = target.rstrip("/")
    if target.startswith("./"):
        target = target[2:]
    dvcfile, _, name = target.rpartition(":") if ":" in target else ("", "", target)
    if not dvcfile and (name.endswith((".yaml", ".dvc")) or posixpath.basename(name) == "dvc.yaml"):
        dvcfile, name = name, ""
    matches = []
    for address, stage in graph.stages.items():
        if dvcfile and posixpath.normpath(dvcfile) != stage.dvcfile:
            continue
        if (
            not name
            or stage.name == name
            or stage.name.split("@", 1)[0] == name
            or not dvcfile
            and address == name
        ):
            matches.append(address)
    return matches


def _unknown_target_message(graph: Graph, target: str) -> str:
    import difflib  # only for this message: every `repro` imports this module

    names = sorted({*graph.stages, *(s.name for s in graph.stages.values())})
    close = difflib.get_close_matches(target, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown target '{target}': no such stage or dvc file{hint}"


def select(
    graph: Graph,
    targets: list[str],
    *,
    single_item: bool = False,
    downstream: bool = False,
    frozen_cut: bool = False,
) -> list[str]:
    """The stages to consider, in order: targets plus their upstream (or downstream).

    With `frozen_cut` (what `repro` plans with, as dvc does) a frozen stage is cut
    from its dependencies: what lies upstream of it only through it is left out.
    """
    if not targets:
        return graph.order()
    walked = active_graph(graph) if frozen_cut else graph
    chosen: set[str] = set()
    for address in targets:
        if single_item:
            chosen.add(address)
        elif downstream:
            chosen |= walked.downstream(address)
        else:
            chosen |= walked.upstream(address)
    return graph.order(chosen)


def active_graph(graph: Graph) -> Graph:
    """dvc's active graph: the same stages, with no edge into a frozen stage."""
    frozen = {address for address, stage in graph.stages.items() if stage.frozen}
    if not frozen:
        return graph
    parents = {a: set() if a in frozen else ps for a, ps in graph.parents.items()}
    children = {a: cs - frozen for a, cs in graph.children.items()}
    return Graph(graph.stages, parents, children, graph.producers)
