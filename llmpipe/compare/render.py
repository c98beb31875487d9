"""Plain-text and Markdown tables of values, with DVC's number formatting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DEFAULT_PRECISION = 5
MISSING = "-"


def format_value(value: Any, precision: int = DEFAULT_PRECISION) -> str:
    """Floats to `precision` significant digits; None as '-'; the rest as text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.{precision}g}"
    return str(value)


def format_relative(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.2f}%"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns separated by two spaces, padded to the widest cell."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table; pipes inside cells are escaped."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(headers), line(["---"] * len(headers)), *(line(r) for r in rows)])
