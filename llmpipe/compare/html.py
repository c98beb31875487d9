"""A self-contained HTML page of plots: inline SVG and images, no scripts, no network."""

from __future__ import annotations

import base64
import json
import mimetypes
from html import escape
from typing import Any

from .chart import render_svg
from .plots import Plot

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}section{margin-bottom:2em}"
    ".error{color:#b00}figure{display:inline-block;margin:0 1em 1em 0}"
)


def render_page(plots: list[Plot], revisions: list[str], problems: list[str],
                data: dict[str, Any]) -> str:  # fmt: skip
    """The HTML document; `data` (dvc's JSON of the plots) is embedded (id `plot-data`)."""
    body = [f"<h1>Plots: {escape(', '.join(revisions))}</h1>"]
    body.extend(f'<p class="error">{escape(p)}</p>' for p in problems)
    if not plots:
        body.append("<p>No plots found.</p>")
    for plot in plots:
        body.append(f'<section id="{escape(plot.id)}"><h2>{escape(plot.id)}</h2>')
        body.append(_images(plot) if plot.kind == "image" else render_svg(plot))
        body.append("</section>")
    embedded = json.dumps(data).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>llmpipe plots</title>'
        f"<style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="plot-data">{embedded}</script>\n'
        "</body></html>\n"
    )


def _images(plot: Plot) -> str:
    figures = []
    for image in plot.images:
        kind = mimetypes.guess_type(image.filename)[0] or "application/octet-stream"
        source = f"data:{kind};base64,{base64.b64encode(image.content).decode()}"
        figures.append(
            f'<figure><img alt="{escape(image.filename)}" src="{source}">'
            f"<figcaption>{escape(image.revision)}</figcaption></figure>"
        )
    return "".join(figures)
