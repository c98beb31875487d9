"""Reading the dashboard's HTML in tests: tables as rows of cells, and the text of a page."""

from __future__ import annotations

import html as entities
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    head: list[list[str]] = field(default_factory=list)
    body: list[tuple[dict[str, str], list[str]]] = field(default_factory=list)


class _Tables(HTMLParser):
    """Every table by id: its header rows, and each body row's attributes and cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, Table] = {}
        self._open: list[Table] = []
        self._in_head = False
        self._row: tuple[dict[str, str], list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "table":
            table = Table()
            self.tables[found.get("id") or f"table{len(self.tables)}"] = table
            self._open.append(table)
        elif tag in ("thead", "tbody"):
            self._in_head = tag == "thead"
        elif tag == "tr" and self._open:
            self._row = (found, [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._open:
            table = self._open[-1]
            table.head.append(self._row[1]) if self._in_head else table.body.append(self._row)
            self._row = None
        elif tag == "table" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str, table_id: str) -> list[dict[str, str]]:
    """The body rows of table `table_id` as {header: cell text}; `_id` is the row's data-id."""
    parser = _Tables()
    parser.feed(html)
    table = parser.tables[table_id]
    header = table.head[-1] if table.head else []
    return [
        {**dict(zip(header, cells, strict=False)), "_id": attrs.get("data-id", "")}
        for attrs, cells in table.body
    ]


def text(html: str) -> str:
    """The page's text: tags dropped, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return entities.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split()))
