"""Which stages a command's targets name: stage names and dvc files, or output paths.

dvc's `commit`, `remove`, `freeze` and friends accept a stage (`train`,
`sub/dvc.yaml:train`), a dvc file (`data.dvc`, `dvc.yaml`) or a path an output
holds; paths are taken relative to the current directory. With `recursive` (dvc's
`-R`), a directory names every stage defined in a dvc file inside it.
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
    """Addresses of the stages `targets` name (all stages without targets), in order."""
    if not targets:
        return graph.order()
    chosen: list[str] = []
    for target in targets:
        if recursive and os.path.isdir(target):
            found = stages_inside(project, graph, target)
        else:
            found = _addresses(project, graph, target)
        for address in found:
            if address not in chosen:
                chosen.append(address)
    if with_deps:
        upstream = {a for address in chosen for a in graph.upstream(address)}
        return graph.order(set(chosen) | upstream)
    return chosen


def stages_inside(project: Project, graph: Graph, directory: str) -> list[str]:
    """The stages defined in dvc files inside `directory` (none is no error, as in dvc)."""
    relpath = repo_relpath(project, directory)
    prefix = "" if relpath == "." else relpath + "/"
    return [a for a in graph.order() if graph.stages[a].dvcfile.startswith(prefix)]


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


def repo_relpath(project: Project, path: str) -> str:
    """`path` (relative to the current directory) relative to the project, posix form."""
    relative = os.path.relpath(os.path.abspath(path), project.root)
    return os.path.normpath(relative).replace(os.sep, "/")
