"""Directed graphs drawn as inline SVG on the server: the stage graph and lineage walks.

A layered layout, top to bottom: a node sits one layer below its lowest parent;
within a layer nodes are ordered by the mean position of their parents (two
passes), which keeps most edges short and uncrossed on pipelines of the usual
shapes. Colours come from CSS classes, so the page's stylesheet (and the live
updates of the pipeline page) decide them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CHAR_WIDTH = 7.2  # of the 12 px sans-serif labels, on average
MIN_WIDTH, MAX_WIDTH = 110, 280
NODE_HEIGHT, LAYER_GAP, NODE_GAP, MARGIN = 46, 44, 24, 12


@dataclass(frozen=True)
class Node:
    """One box: `label` in bold, `note` below it; `css` classes; a link when `href`."""

    id: str
    label: str
    note: str = ""
    css: str = ""
    href: str | None = None
    title: str = ""

    @property
    def width(self) -> float:
        longest = max(len(self.label), len(self.note))
        return min(MAX_WIDTH, max(MIN_WIDTH, longest * CHAR_WIDTH + 24))


def layers(nodes: Sequence[Node], edges: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Node ids by layer (longest path from a source), ordered to keep edges uncrossed.

    `nodes` must come in a topological order (parents first), as graphs and
    lineage walks give them.
    """
    parents: dict[str, list[str]] = {n.id: [] for n in nodes}
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for parent, child in edges:
        if parent in parents and child in parents:
            parents[child].append(parent)
            children[parent].append(child)
    depth: dict[str, int] = {}
    for node in nodes:
        depth[node.id] = 1 + max((depth.get(p, -1) for p in parents[node.id]), default=-1)
    for node in nodes:  # a source sits just above its first child, not at the very top
        if not parents[node.id] and children[node.id]:
            depth[node.id] = max(0, min(depth[c] for c in children[node.id]) - 1)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in nodes:
        rows[depth[node.id]].append(node.id)
    for _ in range(2):
        position = {n: i for row in rows for i, n in enumerate(row)}
        for row in rows[1:]:
            row.sort(key=lambda n: _mean([position[p] for p in parents[n]], position[n]))
            position.update({n: i for i, n in enumerate(row)})
    return rows


def _mean(values: list[int], default: int) -> float:
    return sum(values) / len(values) if values else float(default)


def render(nodes: Sequence[Node], edges: Sequence[tuple[str, str]], css: str = "graph") -> str:
    """The graph as one `<svg>` element; an empty graph is an empty string."""
    if not nodes:
        return ""
    by_id = {n.id: n for n in nodes}
    rows = layers(nodes, edges)
    widths = [sum(by_id[n].width for n in row) + NODE_GAP * (len(row) - 1) for row in rows]
    total_width = max(widths) + 2 * MARGIN
    boxes: dict[str, tuple[float, float, float]] = {}  # id -> (x, y, width)
    for index, row in enumerate(rows):
        x = MARGIN + (total_width - 2 * MARGIN - widths[index]) / 2
        y = MARGIN + index * (NODE_HEIGHT + LAYER_GAP)
        for node_id in row:
            boxes[node_id] = (x, y, by_id[node_id].width)
            x += by_id[node_id].width + NODE_GAP
    height = MARGIN * 2 + len(rows) * NODE_HEIGHT + (len(rows) - 1) * LAYER_GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css)}" width="{total_width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {total_width:.0f} {height:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/>'
        "</marker></defs>",
    ]
    parts.extend(_edge(boxes[p], boxes[c]) for p, c in edges if p in boxes and c in boxes)
    parts.extend(_node(by_id[node_id], *boxes[node_id]) for row in rows for node_id in row)
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(parent: tuple[float, float, float], child: tuple[float, float, float]) -> str:
    x1, y1 = parent[0] + parent[2] / 2, parent[1] + NODE_HEIGHT
    x2, y2 = child[0] + child[2] / 2, child[1]
    middle = (y1 + y2) / 2
    return (
        f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{middle:.1f} {x2:.1f},{middle:.1f} '
        f'{x2:.1f},{y2 - 2:.1f}" marker-end="url(#arrow)"/>'
    )


def _node(node: Node, x: float, y: float, width: float) -> str:
    label = _clip(node.label, width)
    note = _clip(node.note, width)
    body = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{NODE_HEIGHT}" rx="6"/>'
        f'<text class="label" x="{x + width / 2:.1f}" y="{y + 19:.1f}">{escape(label)}</text>'
        f'<text class="note" x="{x + width / 2:.1f}" y="{y + 36:.1f}">{escape(note)}</text>'
        f"<title>{escape(node.title or node.label)}</title>"
    )
    if node.href:
        body = f'<a href="{escape(node.href)}">{body}</a>'
    return f'<g class="node {escape(node.css)}" data-id="{escape(node.id)}">{body}</g>'


def _clip(text: str, width: float) -> str:
    room = int((width - 16) / CHAR_WIDTH)
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"
