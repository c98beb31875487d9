"""The layers hold: read every import of llmpipe (inside functions and TYPE_CHECKING
blocks too) and check that nothing imports a layer above its own and that no two
packages or top-level modules import each other, directly or in a circle.

The layers, bottom up, are those of docs/architecture.md. A unit is a top-level
module (`llmpipe/graph.py`) or a package (`llmpipe/cache/`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "llmpipe"

LAYERS: list[tuple[str, set[str]]] = [
    (
        "base",
        {
            "errors",
            "fsutil",
            "pathguard",
            "yamlio",
            "yamlemit",
            "parsememo",
            "hashing",
            "stage",
            "scm",
            "revfs",
            "config",
            "gitignore",
            "dvcignore",
            "metrics",
            "progress",
            "checkpoint",
        },
    ),  # fmt: skip
    ("spec and graph", {"spec", "graph", "lockfile", "lockjournal", "outputs"}),
    ("services", {"cache", "lineage", "storage", "hydra", "security", "compare"}),
    ("project", {"project"}),
    ("engines", {"run", "remote", "registry", "ckpt", "external", "cluster"}),
    ("ops", {"ops"}),
    ("faces", {"repo", "api", "cli", "ui", "__init__", "__main__"}),
]
LAYER_OF = {unit: index for index, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """`llmpipe.cache.odb` -> `cache`; `llmpipe.graph` -> `graph`; `llmpipe` -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every llmpipe module `path` imports, wherever the import statement stands."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "llmpipe")
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base.split(".")[0] != "llmpipe":
                continue
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))
    return found


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def unit_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        graph.add_node(source)
        for target in map(unit_of, imports_of(path)):
            if target != source and target != "__init__":
                graph.add_edge(source, target, where=graph.get_edge_data(source, target, {}))
                graph.edges[source, target].setdefault("files", set()).add(path.name)
    return graph


def test_every_unit_has_a_layer():
    units = set(unit_graph().nodes)
    assert units - set(LAYER_OF) == set(), "add new packages/modules to LAYERS"


def test_nothing_imports_a_layer_above_its_own():
    graph = unit_graph()
    upward = [
        f"{source} ({LAYERS[LAYER_OF[source]][0]}) -> {target} ({LAYERS[LAYER_OF[target]][0]})"
        f" in {sorted(graph.edges[source, target]['files'])}"
        for source, target in graph.edges
        if LAYER_OF.get(target, -1) > LAYER_OF.get(source, -1)
    ]
    assert upward == []


def test_no_import_cycles_between_units():
    cycles = sorted(" -> ".join(c) for c in nx.simple_cycles(unit_graph()))
    assert cycles == []
