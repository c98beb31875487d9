"""Line charts of `Figure`s: shared geometry, an SVG renderer and a PNG renderer.

The SVG is self-contained (no scripts, no fonts to fetch), so the HTML page
works offline. PNG needs Pillow (`pip install llmpipe[plots]`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from ..errors import LlmpipeError
from .plots import Figure

WIDTH, HEIGHT = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 40, 50
COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Data ranges mapped onto the plot area, with "nice" tick values."""

    x_ticks: tuple[float, ...]
    y_ticks: tuple[float, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def px(self, x: float) -> float:
        low, high = self.x_range
        return LEFT + (x - low) / (high - low) * (WIDTH - LEFT - RIGHT)

    def py(self, y: float) -> float:
        low, high = self.y_range
        return HEIGHT - BOTTOM - (y - low) / (high - low) * (HEIGHT - TOP - BOTTOM)


def layout(figure: Figure) -> Layout:
    xs = [x for s in figure.series for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in figure.series for _, y in s.points] or [0.0, 1.0]
    x_ticks = nice_ticks(min(xs), max(xs))
    y_ticks = nice_ticks(min(ys), max(ys))
    return Layout(x_ticks, y_ticks, (x_ticks[0], x_ticks[-1]), (y_ticks[0], y_ticks[-1]))


def nice_ticks(low: float, high: float, count: int = 5) -> tuple[float, ...]:
    """About `count` round tick values covering [low, high]."""
    if high == low:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [round(start, 12)]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(round(start + len(ticks) * step, 12))
    return tuple(ticks) if len(ticks) > 1 else (ticks[0], ticks[0] + step)


def tick_label(value: float) -> str:
    return f"{value:.4g}"


def render_svg(figure: Figure) -> str:
    """The figure as a standalone `<svg>` element."""
    geo = layout(figure)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">'
        f"{escape(figure.title)}</text>",
    ]
    parts.extend(_svg_axes(geo, figure))
    for index, series in enumerate(figure.series):
        color = COLORS[index % len(COLORS)]
        label = escape(series.label(figure.many_fields))
        points = " ".join(f"{geo.px(x):.1f},{geo.py(y):.1f}" for x, y in series.points)
        parts.append(
            f'<polyline class="series" data-revision="{escape(series.revision)}" '
            f'data-y="{escape(series.y)}" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{points}"><title>{label}</title></polyline>'
        )
        y = TOP + 16 * index + 10
        x = WIDTH - RIGHT + 15
        parts.append(f'<rect x="{x}" y="{y - 8}" width="12" height="3" fill="{color}"/>')
        parts.append(f'<text x="{x + 18}" y="{y}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_axes(geo: Layout, figure: Figure) -> list[str]:
    left, right = LEFT, WIDTH - RIGHT
    top, bottom = TOP, HEIGHT - BOTTOM
    parts = [f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
             'fill="none" stroke="#888"/>']  # fmt: skip
    for value in geo.x_ticks:
        x = geo.px(value)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">{tick_label(value)}</text>'
        )
    for value in geo.y_ticks:
        y = geo.py(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick_label(value)}</text>'
        )
    parts.append(
        f'<text x="{(left + right) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(figure.x_label)}</text>"
    )
    parts.append(
        f'<text x="16" y="{(top + bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(top + bottom) / 2})">{escape(figure.y_label)}</text>'
    )
    return parts


def render_png(figure: Figure, path: str) -> None:
    """Write the figure as a PNG to `path`; LlmpipeError when Pillow is missing."""
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        raise LlmpipeError(
            "PNG export needs Pillow: pip install 'llmpipe[plots]' (the HTML page needs nothing)"
        ) from None
    geo = layout(figure)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.text((WIDTH / 2, 12), figure.title, fill="black", anchor="mt")
    draw.rectangle((LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM), outline="#888888")
    for value in geo.x_ticks:
        draw.text(
            (geo.px(value), HEIGHT - BOTTOM + 6), tick_label(value), fill="black", anchor="mt"
        )
    for value in geo.y_ticks:
        draw.text((LEFT - 6, geo.py(value)), tick_label(value), fill="black", anchor="rm")
    draw.text(((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 14), figure.x_label, fill="black", anchor="mm")
    for index, series in enumerate(figure.series):
        color = COLORS[index % len(COLORS)]
        points = [(geo.px(x), geo.py(y)) for x, y in series.points]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        elif points:
            x, y = points[0]
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=color)
        y = TOP + 16 * index + 4
        draw.rectangle((WIDTH - RIGHT + 15, y, WIDTH - RIGHT + 27, y + 3), fill=color)
        draw.text((WIDTH - RIGHT + 33, y + 2), series.label(figure.many_fields), fill="black",
                  anchor="lm")  # fmt: skip
    image.save(path, format="PNG")
