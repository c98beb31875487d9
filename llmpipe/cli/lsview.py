"""`ls`'s text: names alone, or a table with sizes and hashes, flat or as a tree — the
layout dvc prints (tabulate's `plain`, sizes right-aligned, no colours)."""

from __future__ import annotations

from collections.abc import Sequence

from ..external.listing import LsEntry, LsNode

_EDGE, _LINE, _CORNER, _BLANK = "├── ", "│   ", "└── ", "    "


def human_size(size: int) -> str:
    """dvc's short size: bytes below 1024, then 1024-based units with three digits
    (`4.00k`, `12.3M`, `512G`)."""
    if size < 1024:
        return str(size)
    value = float(size)
    for unit in ("", "k", "M", "G", "T", "P", "E", "Z"):
        if abs(value) < 999.5:
            digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
            return f"{value:.{digits}f}{unit}"
        value /= 1024
    return f"{value:.1f}Y"


def _cells(entry: LsEntry, name: str, size: bool, show_hash: bool) -> list[str]:
    cells = []
    if size:
        # dvc leaves a folder's size blank when it has none of its own (0 or unknown)
        blank = entry.size is None or (entry.size <= 0 and entry.isdir)
        cells.append("" if blank else human_size(entry.size or 0))
    if show_hash:
        cells.append(entry.md5 or "-")
    return [*cells, name]


def _table(rows: Sequence[Sequence[str]], size: bool) -> str:
    """Columns two spaces apart, the size column right-aligned, no trailing blanks."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def cell(i: int, text: str) -> str:
        return text.rjust(widths[i]) if size and i == 0 else text.ljust(widths[i])

    return "\n".join("  ".join(cell(i, c) for i, c in enumerate(row)).rstrip() for row in rows)


def list_rows(entries: Sequence[LsEntry], size: bool, show_hash: bool) -> str:
    if not (size or show_hash) or not entries:
        return "\n".join(e.path for e in entries)
    return _table([_cells(e, e.path, size, show_hash) for e in entries], size)


def tree_rows(root: LsNode, size: bool, show_hash: bool) -> str:
    rows: list[list[str]] = []

    def walk(node: LsNode, depth: int, prefix: str, last: bool) -> None:
        part = (_CORNER if last else _EDGE) if depth else ""
        rows.append(_cells(node.entry, prefix + part + node.entry.path, size, show_hash))
        inner = prefix + ((_BLANK if last else _LINE) if depth else "")
        contents = node.contents or []
        for i, child in enumerate(contents):
            walk(child, depth + 1, inner, i == len(contents) - 1)

    walk(root, 0, "", True)
    return _table(rows, size)
