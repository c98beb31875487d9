"""Plain-text and Markdown tables of values, as dvc prints them (tabulate's `plain` and
`github` layouts, dvc's number formatting)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DEFAULT_PRECISION = 5
MISSING = "-"
_PADDING = 2  # a column is at least its header and two spaces wide


def format_value(value: Any, precision: int | None = DEFAULT_PRECISION) -> str:
    """dvc's cell text: floats rounded to `precision` decimal places, None as '-',
    everything else as Python prints it (`True`, `[1, 2]`)."""
    if value is None:
        return MISSING
    if isinstance(value, float) and precision:
        return str(round(value, precision))
    return str(value)


def format_relative(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.2f}%"


def _widths(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    return [max([len(h) + _PADDING, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns left-aligned, two spaces apart, no trailing blanks; '' without rows."""
    if not rows:
        return ""
    widths = _widths(headers, rows)
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *rows]
    )


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], empty_headers: bool = False
) -> str:
    """A GitHub-flavoured Markdown table (pipes inside cells escaped); '' without rows,
    or only the header lines with `empty_headers` (dvc's `exp diff --md` writes those)."""
    if not rows and not empty_headers:
        return ""
    escaped = [[c.replace("|", "\\|") for c in r] for r in [headers, *rows]]
    widths = _widths(escaped[0], escaped[1:])

    def line(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {c.ljust(w)} " for c, w in zip(cells, widths, strict=True)) + "|"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(escaped[0]), rule, *(line(r) for r in escaped[1:])]) + "\n"
