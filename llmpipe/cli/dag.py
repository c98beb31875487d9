"""`llmpipe dag`: the stage graph as text, DOT, Mermaid or JSON."""

from __future__ import annotations

import click

from .render import emit_json, verbose_option


@click.command()
@click.argument("target", required=False)
@click.option("--dot", "fmt", flag_value="dot", help="Graphviz DOT.")
@click.option("--mermaid", "fmt", flag_value="mermaid", help="A Mermaid flowchart.")
@click.option("--json", "fmt", flag_value="json", help="Nodes and edges as JSON.")
@verbose_option
def dag(target: str | None, fmt: str | None, verbose: bool) -> None:
    """Show the stage graph (upstream of TARGET when given)."""
    from ..graph import build_graph, resolve_targets, select
    from ..project import Project
    from ..spec import names_dvcyaml

    project = Project.discover()
    graph = build_graph(project.stages())
    targets = resolve_targets(graph, [target] if target else [], names_dvcyaml(project.root))
    order = select(graph, targets)
    chosen = set(order)
    edges = sorted((p, c) for c in order for p in graph.parents[c] if p in chosen)
    if fmt == "json":
        emit_json({"nodes": order, "edges": [{"from": p, "to": c} for p, c in edges]})
    elif fmt == "dot":
        click.echo(_dot(order, edges))
    elif fmt == "mermaid":
        click.echo(_mermaid(order, edges))
    else:
        click.echo(_text(graph, order))


def _dot(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    lines = ["strict digraph {"]
    lines += [f'\t"{n}";' for n in nodes]
    lines += [f'\t"{p}" -> "{c}";' for p, c in edges]
    return "\n".join([*lines, "}"])


def _mermaid(nodes: list[str], edges: list[tuple[str, str]]) -> str:
    ids = {n: f"node{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart TD"]
    lines += [f'\t{ids[n]}["{n}"]' for n in nodes]
    lines += [f"\t{ids[p]}-->{ids[c]}" for p, c in edges]
    return "\n".join(lines)


def _text(graph, order: list[str]) -> str:  # noqa: ANN001
    lines = []
    for address in order:
        parents = sorted(p for p in graph.parents[address] if p in order)
        lines.append(f"{address}" + (f"  <- {', '.join(parents)}" if parents else ""))
    return "\n".join(lines)
