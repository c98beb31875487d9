"""Which stages a command's targets name: stage names and dvc files, or output paths.

dvc's `commit`, `remove`, `freeze` and friends accept a stage (`train`,
`sub/dvc.yaml:train`), a dvc file (`data.dvc`, `dvc.yaml`) or a path an output
holds; paths are taken relative to the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import TargetError
from ..graph import Graph, build_graph, resolve_targets

if TYPE_CHECKING:
    from ..project import Project


def project_graph(project: Project) -> Graph:
    return build_graph(project.stages())


def select_stages(
    project: Project,
    graph: Graph,
    targets: Sequence[str],
    with_deps: bool = False,
    recursive: bool = False,
) -> list[str]:
    """Addresses of the stages `targets` name (all stages without targets), in order.

    With `recursive`, a target that is a folder names every stage of the dvc files in
    it and below (`-R`, which dvc tries before anything else a target may name).
    """
    if not targets:
        return graph.order()
    chosen: list[str] = []
    for target in targets:
        if recursive and os.path.isdir(target):
            found = stages_under(project, graph, target)
        else:
            found = _addresses(project, graph, target)
        for address in found:
            if address not in chosen:
                chosen.append(address)
    if with_deps:
        upstream = {a for address in chosen for a in graph.upstream(address)}
        return graph.order(set(chosen) | upstream)
    return chosen


def _addresses(project: Project, graph: Graph, target: str) -> list[str]:
    relpath = repo_relpath(project, target)
    for candidate in (relpath, target):
        try:
            return resolve_targets(graph, [candidate])
        except TargetError:
            pass
    producer = graph.producer_of(relpath)
    if producer is not None:
        return [producer]
    raise TargetError(
        f"'{target}' does not exist as an output or a stage name; "
        "list the stages with 'llmpipe dag' or 'llmpipe status'"
    )


def stages_under(project: Project, graph: Graph, folder: str) -> list[str]:
    """Addresses of the stages whose dvc file is in `folder` (from the current folder) or
    below, in order."""
    prefix = repo_relpath(project, folder)
    return [
        address
        for address in graph.order()
        if prefix == "." or graph.stages[address].dvcfile.startswith(prefix + "/")
    ]


def repo_relpath(project: Project, path: str) -> str:
    """`path` (relative to the current directory) relative to the project, posix form."""
    relative = os.path.relpath(os.path.abspath(path), project.root)
    return os.path.normpath(relative).replace(os.sep, "/")
