"""The server-side graph drawing: layers follow the edges, and every text is escaped."""

from __future__ import annotations

import re

from llmpipe.ui.graph_svg import Node, layers, render


def test_each_node_sits_below_its_parents_and_a_source_just_above_its_child() -> None:
    nodes = [Node(n, n) for n in ("data", "code", "prepare", "train", "evaluate", "report")]
    edges = [("data", "prepare"), ("prepare", "train"), ("train", "evaluate"),
             ("code", "evaluate"), ("evaluate", "report")]  # fmt: skip
    rows = layers(nodes, edges)
    depth = {node: index for index, row in enumerate(rows) for node in row}
    assert all(depth[parent] < depth[child] for parent, child in edges)
    assert depth["code"] == depth["evaluate"] - 1  # not up at the top with `data`


def test_labels_links_and_tooltips_are_escaped() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    svg = render([Node("a", hostile, hostile, "artifact", f"/lineage?path={hostile}", hostile)], [])
    assert "<img" not in svg and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in svg
    assert re.search(r'<a href="/lineage\?path=&lt;img', svg)


def test_an_empty_graph_draws_nothing() -> None:
    assert render([], []) == ""
