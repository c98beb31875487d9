"""`llmpipe dag`: the stage graph as dvc draws it (ASCII), DOT, Mermaid or JSON.

The text forms are `dvc dag`'s, character for character: the same stages in the
same order (dvc's: file by file as a top-down walk finds them, each file's stages
in order), split into pipelines (connected parts) the way dvc splits them, so
Mermaid's `nodeN` numbers and DOT's lines come out as dvc's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .render import emit_json, verbose_option

if TYPE_CHECKING:
    from ..graph import Graph

Edge = tuple[str, str]  # (upstream, downstream)


@click.command()
@click.argument("target", required=False)
@click.option("--dot", "fmt", flag_value="dot", help="Graphviz DOT.")
@click.option("--mermaid", "fmt", flag_value="mermaid", help="A Mermaid flowchart.")
@click.option("--md", "fmt", flag_value="md", help="The Mermaid flowchart in a Markdown block.")
@click.option("--json", "fmt", flag_value="json", help="Nodes and edges as JSON.")
@click.option(
    "--full", is_flag=True, help="The whole pipeline TARGET belongs to, not its upstream."
)
@verbose_option
def dag(target: str | None, fmt: str | None, full: bool, verbose: bool) -> None:
    """Show the stage graph (TARGET and its upstream stages when given)."""
    from ..graph import build_graph, resolve_targets
    from ..project import Project
    from ..spec import names_dvcyaml

    project = Project.discover()
    graph = build_graph(project.stages())
    targets = resolve_targets(graph, [target], names_dvcyaml(project.root)) if target else []
    nodes, edges = _view(graph, targets, full)
    if fmt == "json":
        order = graph.order(nodes)
        pairs = sorted(edges)
        emit_json({"nodes": order, "edges": [{"from": p, "to": c} for p, c in pairs]})
    elif fmt == "dot":
        click.echo(_dot(nodes, edges) + "\n")
    elif fmt in ("mermaid", "md"):
        chart = _mermaid(_pipelines(nodes, edges))
        click.echo(f"```mermaid\n{chart}\n```" if fmt == "md" else chart)
    else:
        click.echo(_ascii(_pipelines(nodes, edges)))


def _view(graph: Graph, targets: list[str], full: bool) -> tuple[list[str], list[Edge]]:
    """The stages shown, in dvc's order, and their edges in the order dvc adds them.

    With targets: each target and its upstream (with `full`, every stage
    connected to a target).
    """
    nodes = _dvc_order(graph)
    edges = [(up, down) for down in nodes for up in _producers(graph, down)]
    if targets:
        kept = set(targets)
        for address in targets:
            kept |= graph.upstream(address)
        if full:
            kept = _connected(kept, edges)
        nodes = [node for node in nodes if node in kept]
        edges = [(up, down) for up, down in edges if up in kept and down in kept]
    return nodes, edges


def _dvc_order(graph: Graph) -> list[str]:
    """Stages file by file as dvc's top-down walk meets the files: a folder's files
    (by name) before its sub-folders'; each file's stages in their order."""

    def walk_key(dvcfile: str) -> list[tuple[int, str]]:
        *folders, name = dvcfile.split("/")
        return [(1, folder) for folder in folders] + [(0, name)]

    files = sorted({stage.dvcfile for stage in graph.stages.values()}, key=walk_key)
    rank = {dvcfile: index for index, dvcfile in enumerate(files)}
    position = {address: index for index, address in enumerate(graph.stages)}
    return sorted(graph.stages, key=lambda a: (rank[graph.stages[a].dvcfile], position[a]))


def _producers(graph: Graph, address: str) -> list[str]:
    """The stages `address` depends on, in the order of its deps (as dvc adds edges)."""
    stage = graph.stages[address]
    found: dict[str, None] = {}
    for dep in stage.deps:
        path = stage.repo_path(dep.path)
        direct = graph.producer_of(path)
        inside = sorted(p for p in graph.producers if p.startswith(path + "/"))
        for producer in ([direct] if direct else []) + [graph.producers[p] for p in inside]:
            if producer != address:
                found[producer] = None
    return list(found)


def _connected(kept: set[str], edges: list[Edge]) -> set[str]:
    neighbours: dict[str, set[str]] = {}
    for up, down in edges:
        neighbours.setdefault(up, set()).add(down)
        neighbours.setdefault(down, set()).add(up)
    stack, seen = list(kept), set(kept)
    while stack:
        for other in neighbours.get(stack.pop(), ()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def _pipelines(nodes: list[str], edges: list[Edge]) -> list[tuple[list[str], list[Edge]]]:
    """The connected parts, ordered by their first stage, each in dvc's node and edge order.

    dvc's edges point from a stage to its dependency, and it lists them stage by
    stage; `edges` here are already (upstream, downstream) in that order.
    """
    part_of: dict[str, int] = {}
    parts: list[tuple[list[str], list[Edge]]] = []
    for node in nodes:
        if node in part_of:
            continue
        members = _connected({node}, edges)
        index = len(parts)
        part_of.update(dict.fromkeys(members, index))
        parts.append(([n for n in nodes if n in members], []))
    for edge in edges:
        parts[part_of[edge[1]]][1].append(edge)
    return parts


def _ascii(pipelines: list[tuple[list[str], list[Edge]]]) -> str:
    from .dagdraw import draw

    return "\n".join(draw(nodes, edges) for nodes, edges in pipelines)


def _dot(nodes: list[str], edges: list[Edge]) -> str:
    """DOT as dvc writes it: nodes in order, then each stage's outgoing edges in turn."""
    lines = ["strict digraph {"]
    lines += [f"{_quoted(n)};" for n in nodes]
    position = {node: index for index, node in enumerate(nodes)}
    ordered = sorted(enumerate(edges), key=lambda item: (position[item[1][0]], item[0]))
    lines += [f"{_quoted(up)} -> {_quoted(down)};" for _, (up, down) in ordered]
    return "\n".join([*lines, "}"])


def _quoted(name: str) -> str:
    return f'"{name}"' if not name.startswith('"') and not name.endswith('"') else name


def _mermaid(pipelines: list[tuple[list[str], list[Edge]]]) -> str:
    """dvc's numbering: node1… over all pipelines, each pipeline's names sorted."""
    lines = ["flowchart TD"]
    count = 0
    for nodes, edges in pipelines:
        ids = {}
        for node in sorted(nodes):
            count += 1
            ids[node] = f"node{count}"
            lines.append(f'\t{ids[node]}["{node}"]')
        lines += [f"\t{ids[up]}-->{ids[down]}" for up, down in sorted(edges)]
    return "\n".join(lines)
