"""A self-contained HTML page of figures: inline SVG, no scripts, no network."""

from __future__ import annotations

import json
from html import escape

from .chart import render_svg
from .plots import Figure, figures_to_json

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}section{margin-bottom:2em}.error{color:#b00}"
)


def render_page(figures: list[Figure], revisions: list[str], problems: list[str]) -> str:
    """The HTML document; the plotted data is embedded as JSON (id `plot-data`) too."""
    body = [f"<h1>Plots: {escape(', '.join(revisions))}</h1>"]
    body.extend(f'<p class="error">{escape(p)}</p>' for p in problems)
    if not figures:
        body.append("<p>No plots found.</p>")
    for figure in figures:
        body.append(f'<section id="{escape(figure.id)}"><h2>{escape(figure.id)}</h2>')
        body.append(render_svg(figure))
        body.extend(f'<p class="error">{escape(e)}</p>' for e in figure.errors)
        body.append("</section>")
    data = json.dumps(figures_to_json(figures)).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>llmpipe plots</title>'
        f"<style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="plot-data">{data}</script>\n'
        "</body></html>\n"
    )
