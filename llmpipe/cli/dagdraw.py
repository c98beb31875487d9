"""The stage graph drawn in ASCII, as `dvc dag` draws it.

The boxes are placed by grandalf's Sugiyama layout with the settings dvc uses
(a box is the name padded by a space each side, three lines high; layers three
lines apart, boxes at least the narrowest box apart), so the picture is dvc's
character for character: edges first as lines of `*`, then the boxes over them.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence

_BOX_HEIGHT = 3  # top border, name, bottom border


class _BoxSize:
    """What grandalf asks of a vertex's view: its width and height."""

    def __init__(self, label: str) -> None:
        self.w = len(label) + 2
        self.h = _BOX_HEIGHT


def draw(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> str:
    """One connected pipeline: `edges` are (upstream, downstream) pairs of `nodes`."""
    layout = _layout(nodes, edges)
    vertices, routes = list(layout.g.sV), [edge.view._pts for edge in layout.g.sE]
    xs, ys = [], []
    for vertex in vertices:
        x, y = vertex.view.xy
        xs += [x - vertex.view.w / 2.0, x + vertex.view.w / 2.0]
        ys += [y, y + vertex.view.h]
    for points in routes:
        xs += [x for x, _ in points]
        ys += [y for _, y in points]
    left, top = min(xs), min(ys)
    canvas = _Canvas(math.ceil(math.ceil(max(xs)) - math.floor(left)) + 1, round(max(ys) - top))
    for points in routes:  # edges first: the boxes are drawn over their ends
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            canvas.line(round(x0 - left), round(y0 - top), round(x1 - left), round(y1 - top))
    for vertex in vertices:
        x = round(vertex.view.xy[0] - vertex.view.w / 2.0 - left)
        y = round(vertex.view.xy[1] - top)
        canvas.box(x, y, vertex.view.w, vertex.view.h)
        canvas.text(x + 1, y + 1, vertex.data)
    return canvas.render()


def _layout(nodes: Sequence[str], edges: Sequence[tuple[str, str]]):  # noqa: ANN202
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import EdgeViewer, route_with_lines

    vertices = {name: Vertex(f" {name} ") for name in nodes}
    links = [Edge(vertices[up], vertices[down]) for up, down in edges]
    for vertex in vertices.values():
        vertex.view = _BoxSize(vertex.data)
    for link in links:
        link.view = EdgeViewer()
    component = Graph(list(vertices.values()), links).C[0]
    layout = SugiyamaLayout(component)
    roots = [vertex for vertex in component.sV if not vertex.e_in()]
    layout.init_all(roots=roots, optimize=True)
    layout.yspace = _BOX_HEIGHT
    layout.xspace = min(vertex.view.w for vertex in vertices.values())
    layout.route_edge = route_with_lines
    layout.draw()
    return layout


class _Canvas:
    """A grid of characters; coordinates are (column, line) from the top left."""

    def __init__(self, columns: int, lines: int) -> None:
        self.cells = [[" "] * columns for _ in range(lines)]

    def put(self, x: int, y: int, char: str) -> None:
        self.cells[y][x] = char

    def line(self, x0: int, y0: int, x1: int, y1: int) -> None:
        """A line of `*`, stepping along its longer axis (rounding as Python does)."""
        if x0 > x1:
            x0, y0, x1, y1 = x1, y1, x0, y0
        dx, dy = x1 - x0, y1 - y0
        if abs(dx) >= abs(dy):
            for x in range(x0, x1 + 1):
                self.put(x, y0 + round((x - x0) * dy / float(dx)) if dx else y0, "*")
        elif y0 < y1:
            for y in range(y0, y1 + 1):
                self.put(x0 + round((y - y0) * dx / float(dy)), y, "*")
        else:
            for y in range(y1, y0 + 1):
                self.put(x1 + round((y - y1) * dx / float(dy)), y, "*")

    def box(self, x0: int, y0: int, width: int, height: int) -> None:
        right, bottom = x0 + width - 1, y0 + height - 1
        for x in range(x0, right):
            self.put(x, y0, "-")
            self.put(x, bottom, "-")
        for y in range(y0, bottom):
            self.put(x0, y, "|")
            self.put(right, y, "|")
        for x, y in ((x0, y0), (right, y0), (x0, bottom), (right, bottom)):
            self.put(x, y, "+")

    def text(self, x: int, y: int, text: str) -> None:
        for offset, char in enumerate(text):
            self.put(x + offset, y, char)

    def render(self) -> str:
        return os.linesep.join("".join(line) for line in self.cells)
