"""Metrics across versions and monitoring checks, as plots for the compare HTML renderer."""

from __future__ import annotations

from ..compare.plots import Plot
from .state import ModelState


def metric_plots(model: ModelState) -> list[Plot]:
    """One plot per metric; x is the event number, so versions and checks share a timeline."""
    points: dict[str, list[dict]] = {}
    for event in model.events:
        data = event.get("data") or {}
        label = {"register": "versions", "monitor": "monitoring"}.get(str(event.get("type")))
        if label is None:
            continue
        for key, value in (data.get("metrics") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                point = {"event": event["seq"], key: value, "rev": label}
                points.setdefault(key, []).append({**point, "filename": "registry", "field": key})
    plots = []
    for metric in sorted(points):
        props = {"x": "event", "y": metric, "title": f"{model.name}: {metric}",
                 "x_label": "registry event", "y_label": metric}  # fmt: skip
        # Versions first, then monitoring: the order of the legend.
        ordered = sorted(points[metric], key=lambda p: p["rev"] != "versions")
        revisions = list(dict.fromkeys(p["rev"] for p in ordered))
        plots.append(Plot(metric, "vega", props, ordered, revisions))
    return plots


def render_html(model: ModelState) -> str:
    """A self-contained HTML page (inline SVG) of every metric of `model`."""
    from ..compare.html import render_page

    versions = [f"{v.version} (event {v.seq})" for v in model.versions.values()]
    plots = metric_plots(model)
    data = {plot.id: plot.datapoints for plot in plots}
    return render_page(plots, [model.name, *versions], [], data)
