"""Metrics across versions and monitoring checks, as figures for the compare HTML renderer."""

from __future__ import annotations

from ..compare.plots import Figure, Series
from .state import ModelState


def metric_figures(model: ModelState) -> list[Figure]:
    """One figure per metric; x is the event number, so versions and checks share a timeline."""
    registered: dict[str, list[tuple[float, float]]] = {}
    checked: dict[str, list[tuple[float, float]]] = {}
    for event in model.events:
        data = event.get("data") or {}
        target = {"register": registered, "monitor": checked}.get(str(event.get("type")))
        if target is None:
            continue
        for key, value in (data.get("metrics") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                target.setdefault(key, []).append((float(event["seq"]), float(value)))
    figures = []
    for metric in sorted({*registered, *checked}):
        figure = Figure(metric, f"{model.name}: {metric}", "registry event", metric)
        for label, points in (("versions", registered), ("monitoring", checked)):
            if points.get(metric):
                figure.series.append(Series(label, "registry", metric, tuple(points[metric])))
        figures.append(figure)
    return figures


def render_html(model: ModelState) -> str:
    """A self-contained HTML page (inline SVG) of every metric of `model`."""
    from ..compare.html import render_page

    versions = [f"{v.version} (event {v.seq})" for v in model.versions.values()]
    return render_page(metric_figures(model), [model.name, *versions], [])
