"""A small log-log SVG of bench_limits.py's scaling points (matplotlib is not needed).

One panel per (operation, measure): wall seconds and peak RSS against size, one
line per tool. `python benchmarks/plot_svg.py points.json out.svg` redraws a file.
"""

# ruff: noqa: E501  (an SVG element reads best on one line)

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

COLORS = {"llmpipe": "#1f77b4", "dvc": "#d62728"}
PANEL_W, PANEL_H, PAD = 300, 210, 46


def _ticks(low: float, high: float) -> list[float]:
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return [10.0**k for k in range(first, last + 1)]


def _label(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:g}"


def _panel(points: list[dict], title: str, key: str, x0: int, y0: int) -> list[str]:
    xs = [p["size"] for p in points]
    ys = [max(p[key], 1e-3) for p in points]
    xt, yt = _ticks(min(xs), max(xs)), _ticks(min(ys), max(ys))
    lx = (math.log10(xt[0]), math.log10(xt[-1]) or 1)
    ly = (math.log10(yt[0]), math.log10(yt[-1]))
    w, h = PANEL_W - PAD - 26, PANEL_H - PAD - 24

    def sx(v: float) -> float:
        return x0 + PAD + w * (math.log10(v) - lx[0]) / max(lx[1] - lx[0], 1e-9)

    def sy(v: float) -> float:
        return y0 + 24 + h - h * (math.log10(v) - ly[0]) / max(ly[1] - ly[0], 1e-9)

    out = [
        f'<text x="{x0 + PANEL_W / 2}" y="{y0 + 14}" text-anchor="middle" '
        f'font-weight="bold">{title}</text>',
        f'<rect x="{x0 + PAD}" y="{y0 + 24}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
    ]
    for t in xt:
        out.append(
            f'<line x1="{sx(t):.1f}" x2="{sx(t):.1f}" y1="{y0 + 24}" y2="{y0 + 24 + h}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{sx(t):.1f}" y="{y0 + 38 + h}" text-anchor="middle">{_label(t)}</text>'
        )
    for t in yt:
        out.append(
            f'<line x1="{x0 + PAD}" x2="{x0 + PAD + w}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{x0 + PAD - 4}" y="{sy(t) + 4:.1f}" text-anchor="end">{_label(t)}</text>'
        )
    for tool, color in COLORS.items():
        mine = sorted((p for p in points if p["tool"] == tool), key=lambda p: p["size"])
        if not mine:
            continue
        path = " ".join(f"{sx(p['size']):.1f},{sy(max(p[key], 1e-3)):.1f}" for p in mine)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        out += [
            f'<circle cx="{sx(p["size"]):.1f}" cy="{sy(max(p[key], 1e-3)):.1f}" r="3" fill="{color}"/>'
            for p in mine
        ]
    return out


def loglog_svg(points: Sequence[dict]) -> str:
    """The SVG text: a row of panels per operation (wall s, peak RSS MiB)."""
    ops = list(dict.fromkeys(p["op"] for p in points))
    width, height = 2 * PANEL_W, PANEL_H * len(ops) + 40
    body = []
    for row, op in enumerate(ops):
        mine = [p for p in points if p["op"] == op]
        unit = mine[0]["unit"]
        for col, (key, what) in enumerate((("wall", "wall s"), ("rss_mb", "peak RSS MiB"))):
            body += _panel(mine, f"{op}: {what} vs {unit}", key, col * PANEL_W, row * PANEL_H)
    legend_y = PANEL_H * len(ops) + 20
    for i, (tool, color) in enumerate(COLORS.items()):
        body.append(
            f'<rect x="{20 + i * 120}" y="{legend_y - 10}" width="14" height="4" fill="{color}"/>'
        )
        body.append(f'<text x="{40 + i * 120}" y="{legend_y - 4}">{tool}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="10">\n<rect width="100%" height="100%" fill="white"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


if __name__ == "__main__":
    source, target = sys.argv[1:3]
    Path(target).write_text(loglog_svg(json.loads(Path(source).read_text())), encoding="utf-8")
