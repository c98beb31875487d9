"""Charts of `Plot`s, drawn as their dvc template says: lines, points, bars or a
confusion matrix, onto an SVG or a PNG canvas (one drawing for both).

Templates: `linear` (lines with points; the default and what a custom template
is drawn as), `simple` (lines), `smooth` (the raw line faint, a moving average
over it), `scatter` and `scatter_jitter` (points), `confusion` (counts of each
actual/predicted pair, one matrix per revision), `confusion_normalized` (each
count as a share of its row), `bar_horizontal` and `bar_horizontal_sorted`
(one bar per category and revision, the latter largest first). The SVG is
self-contained (no scripts, no fonts to fetch), so the HTML page works offline.
PNG needs Pillow (`pip install llmpipe[plots]`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol

from ..errors import LlmpipeError
from .plots import Plot

WIDTH, HEIGHT = 720, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 40, 50
COLORS = (
    "#945dd6",
    "#13adc7",
    "#f46837",
    "#48bb78",
    "#4299e1",
    "#ed8936",
    "#f56565",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)  # fmt: skip  (dvc's colours for revisions first)
LINES = ("linear", "simple", "smooth")
POINTS = ("scatter", "scatter_jitter")
MATRICES = ("confusion", "confusion_normalized")
BARS = ("bar_horizontal", "bar_horizontal_sorted")
Point = tuple[float, float]


class Canvas(Protocol):
    """What a chart draws with; coordinates in pixels from the top left."""

    def line(self, points: Sequence[Point], color: str, width: float = 2,
             opacity: float = 1.0, label: str = "") -> None: ...  # fmt: skip

    def dot(self, x: float, y: float, color: str, label: str = "") -> None: ...

    def box(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        fill: str | None,
        outline: str | None = None,
        opacity: float = 1.0,
        label: str = "",
    ) -> None: ...

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 11,
             color: str = "black", vertical: bool = False) -> None: ...  # fmt: skip


# -- what is drawn ----------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One line (or set of points): a revision's values of one field of one file."""

    revision: str
    file: str
    field: str
    points: tuple[Point, ...]

    def label(self, many_fields: bool) -> str:
        return f"{self.revision} {self.file}:{self.field}" if many_fields else self.revision


def series_of(plot: Plot) -> list[Series]:
    """The plot's datapoints as numeric (x, y) series, per revision, file and field."""
    x_field, y_field = plot.properties.get("x"), plot.properties.get("y")
    grouped: dict[tuple[str, str, str], list[Point]] = {}
    for index, point in enumerate(plot.datapoints):
        key = (str(point.get("rev")), str(point.get("filename")), str(point.get("field")))
        x = _number(point.get(x_field)) if x_field else float(index)
        y = _number(point.get(y_field))
        if x is not None and y is not None:
            grouped.setdefault(key, []).append((x, y))
    return [Series(rev, file, fld, tuple(points)) for (rev, file, fld), points in grouped.items()]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def draw(plot: Plot, canvas: Canvas) -> None:
    """Draw `plot` as its template says (an unknown or custom template: as `linear`)."""
    canvas.text(WIDTH / 2, 22, str(plot.properties.get("title") or plot.id), "middle", 14)
    template = plot.template
    if template in MATRICES:
        _draw_matrices(plot, canvas, normalized=template == "confusion_normalized")
    elif template in BARS:
        _draw_bars(plot, canvas, by_size=template == "bar_horizontal_sorted")
    else:
        _draw_xy(plot, canvas, template)


# -- lines and points -----------------------------------------------------------------


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


def layout(series: Sequence[Series]) -> Layout:
    xs = [x for s in series for x, _ in s.points] or [0.0, 1.0]
    ys = [y for s in series for _, y in s.points] or [0.0, 1.0]
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


def _draw_xy(plot: Plot, canvas: Canvas, template: str) -> None:
    series = series_of(plot)
    geo = layout(series)
    _axes(canvas, geo, plot)
    many = len({(s.file, s.field) for s in series}) > 1
    for index, one in enumerate(series):
        color = COLORS[index % len(COLORS)]
        label = one.label(many)
        pixels = [(geo.px(x), geo.py(y)) for x, y in one.points]
        if template in POINTS:
            for x, y in pixels:
                canvas.dot(x, y, color, label)
        elif template == "smooth":
            canvas.line(pixels, color, 1, 0.3, label)
            smoothed = _moving_average([y for _, y in one.points])
            canvas.line([(x, geo.py(y)) for (x, _), y in zip(pixels, smoothed, strict=True)],
                        color, 2, 1.0, label)  # fmt: skip
        else:
            canvas.line(pixels, color, 2, 1.0, label)
            if template != "simple":
                for x, y in pixels:
                    canvas.dot(x, y, color, label)
        _legend(canvas, index, color, label)


def _moving_average(values: list[float]) -> list[float]:
    """Each value averaged with its neighbours (a window of about a tenth of the series)."""
    half = max(1, len(values) // 20)
    return [
        sum(values[max(0, i - half) : i + half + 1]) / len(values[max(0, i - half) : i + half + 1])
        for i in range(len(values))
    ]


def _axes(canvas: Canvas, geo: Layout, plot: Plot) -> None:
    left, right, top, bottom = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    canvas.box(left, top, right, bottom, None, "#888")
    for value in geo.x_ticks:
        x = geo.px(value)
        canvas.line([(x, top), (x, bottom)], "#eee", 1)
        canvas.text(x, bottom + 15, tick_label(value), "middle")
    for value in geo.y_ticks:
        y = geo.py(value)
        canvas.line([(left, y), (right, y)], "#eee", 1)
        canvas.text(left - 6, y + 4, tick_label(value), "end")
    canvas.text(
        (left + right) / 2, HEIGHT - 12, str(plot.properties.get("x_label") or ""), "middle"
    )
    canvas.text(16, (top + bottom) / 2, str(plot.properties.get("y_label") or ""), "middle",
                vertical=True)  # fmt: skip


def _legend(canvas: Canvas, index: int, color: str, label: str) -> None:
    y = TOP + 16 * index + 10
    x = WIDTH - RIGHT + 15
    canvas.box(x, y - 8, x + 12, y - 5, color)
    canvas.text(x + 18, y, label)


# -- confusion matrices ----------------------------------------------------------------


def confusion_counts(plot: Plot, normalized: bool) -> dict[str, dict[tuple[str, str], float]]:
    """{revision: {(actual, predicted): count}} (normalized: count / its predicted row's sum)."""
    x_field, y_field = plot.properties.get("x"), plot.properties.get("y")
    counts: dict[str, dict[tuple[str, str], float]] = {}
    for point in plot.datapoints:
        cell = (str(point.get(x_field)), str(point.get(y_field)))
        table = counts.setdefault(str(point.get("rev")), {})
        table[cell] = table.get(cell, 0) + 1
    if normalized:
        for table in counts.values():
            rows: dict[str, float] = {}
            for (_, predicted), count in table.items():
                rows[predicted] = rows.get(predicted, 0) + count
            for (actual, predicted), count in list(table.items()):
                table[(actual, predicted)] = count / rows[predicted]
    return counts


def _draw_matrices(plot: Plot, canvas: Canvas, normalized: bool) -> None:
    counts = confusion_counts(plot, normalized)
    actual = sorted({a for table in counts.values() for a, _ in table})
    predicted = sorted({p for table in counts.values() for _, p in table})
    if not counts or not actual:
        return
    width = (WIDTH - LEFT - 20) / len(counts)
    size = min((width - 20) / len(actual), (HEIGHT - TOP - BOTTOM - 20) / len(predicted))
    for column, (revision, table) in enumerate(counts.items()):
        left = LEFT + column * width
        canvas.text(left + size * len(actual) / 2, TOP + 8, revision, "middle")
        biggest = max(table.values())
        for i, a in enumerate(actual):
            canvas.text(left + (i + 0.5) * size, HEIGHT - BOTTOM + 15, a, "middle")
            for j, p in enumerate(predicted):
                value = table.get((a, p), 0)
                x0, y0 = left + i * size, TOP + 15 + j * size
                share = value / biggest if biggest else 0
                text = f"{value:.2f}" if normalized else f"{value:g}"
                canvas.box(x0, y0, x0 + size, y0 + size, COLORS[0], "#fff", 0.1 + 0.9 * share,
                           f"{a} / {p}: {text}")  # fmt: skip
                canvas.text(x0 + size / 2, y0 + size / 2 + 4, text, "middle",
                            color="white" if share > 0.5 else "black")  # fmt: skip
        for j, p in enumerate(predicted):
            canvas.text(left - 4, TOP + 15 + (j + 0.5) * size + 4, p, "end")
    canvas.text(WIDTH / 2, HEIGHT - 12, str(plot.properties.get("x_label") or ""), "middle")
    canvas.text(16, HEIGHT / 2, str(plot.properties.get("y_label") or ""), "middle", vertical=True)


# -- horizontal bars ----------------------------------------------------------------------


def bar_values(plot: Plot, by_size: bool) -> list[tuple[str, list[tuple[str, float]]]]:
    """[(category, [(revision, value)])], in data order (by_size: largest first)."""
    x_field, y_field = plot.properties.get("x"), plot.properties.get("y")
    bars: dict[str, list[tuple[str, float]]] = {}
    for point in plot.datapoints:
        value = _number(point.get(x_field))
        if value is not None:
            bars.setdefault(str(point.get(y_field)), []).append((str(point.get("rev")), value))
    found = list(bars.items())
    if by_size:
        found.sort(key=lambda item: -max(v for _, v in item[1]))
    return found


def _draw_bars(plot: Plot, canvas: Canvas, by_size: bool) -> None:
    bars = bar_values(plot, by_size)
    values = [v for _, pairs in bars for _, v in pairs] or [0.0]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    left, right = LEFT + 60, WIDTH - RIGHT
    band = (HEIGHT - TOP - BOTTOM) / max(1, len(bars))
    revisions = list(dict.fromkeys(r for _, pairs in bars for r, _ in pairs))

    def px(value: float) -> float:
        return left + (value - ticks[0]) / (ticks[-1] - ticks[0]) * (right - left)

    for value in ticks:
        canvas.line([(px(value), TOP), (px(value), HEIGHT - BOTTOM)], "#eee", 1)
        canvas.text(px(value), HEIGHT - BOTTOM + 15, tick_label(value), "middle")
    for row, (category, pairs) in enumerate(bars):
        top = TOP + row * band
        canvas.text(left - 6, top + band / 2 + 4, category, "end")
        height = band * 0.8 / max(1, len(pairs))
        for k, (revision, value) in enumerate(pairs):
            color = COLORS[revisions.index(revision) % len(COLORS)]
            y0 = top + band * 0.1 + k * height
            x0, x1 = sorted((px(0.0), px(value)))
            canvas.box(
                x0, y0, x1, y0 + height, color, None, 1.0, f"{revision} {category}: {value:g}"
            )
    for index, revision in enumerate(revisions):
        _legend(canvas, index, COLORS[index % len(COLORS)], revision)
    canvas.text(
        (left + right) / 2, HEIGHT - 12, str(plot.properties.get("x_label") or ""), "middle"
    )


# -- SVG and PNG ----------------------------------------------------------------------------


class SvgCanvas:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def line(self, points: Sequence[Point], color: str, width: float = 2,
             opacity: float = 1.0, label: str = "") -> None:  # fmt: skip
        if not points:
            return
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        title = f"<title>{escape(label)}</title>" if label else ""
        kind = ' class="series"' if label else ""  # data, not a grid line
        self.parts.append(
            f'<polyline{kind} fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-opacity="{opacity}" points="{coords}">{title}</polyline>'
        )

    def dot(self, x: float, y: float, color: str, label: str = "") -> None:
        title = f"<title>{escape(label)}</title>" if label else ""
        self.parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">{title}</circle>'
        )

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: str | None,
            outline: str | None = None, opacity: float = 1.0, label: str = "") -> None:  # fmt: skip
        title = f"<title>{escape(label)}</title>" if label else ""
        self.parts.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="{fill or "none"}" fill-opacity="{opacity:.2f}" '
            f'stroke="{outline or "none"}">{title}</rect>'
        )

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 11,
             color: str = "black", vertical: bool = False) -> None:  # fmt: skip
        turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if vertical else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{color}"{turn}>{escape(text)}</text>'
        )


def render_svg(plot: Plot) -> str:
    """The plot as a standalone `<svg>` element."""
    canvas = SvgCanvas()
    draw(plot, canvas)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" '
        f'data-template="{escape(plot.template)}">'
    )
    return "\n".join([head, *canvas.parts, "</svg>"])


class PngCanvas:
    _ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}

    def __init__(self) -> None:
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", (WIDTH, HEIGHT), "white")
        self.pen = ImageDraw.Draw(self.image, "RGBA")

    def line(self, points: Sequence[Point], color: str, width: float = 2,
             opacity: float = 1.0, label: str = "") -> None:  # fmt: skip
        if len(points) > 1:
            self.pen.line(list(points), fill=_rgba(color, opacity), width=max(1, round(width)))

    def dot(self, x: float, y: float, color: str, label: str = "") -> None:
        self.pen.ellipse((x - 2.5, y - 2.5, x + 2.5, y + 2.5), fill=color)

    def box(self, x0: float, y0: float, x1: float, y1: float, fill: str | None,
            outline: str | None = None, opacity: float = 1.0, label: str = "") -> None:  # fmt: skip
        self.pen.rectangle((x0, y0, x1, y1), fill=_rgba(fill, opacity) if fill else None,
                           outline=outline)  # fmt: skip

    def text(self, x: float, y: float, text: str, anchor: str = "start", size: int = 11,
             color: str = "black", vertical: bool = False) -> None:  # fmt: skip
        if not vertical:  # Pillow's default font does not turn; the SVG has the y label
            self.pen.text((x, y), text, fill=color, anchor=self._ANCHORS.get(anchor, "ls"))


def _rgba(color: str, opacity: float) -> tuple[int, int, int, int]:
    digits = color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return red, green, blue, round(255 * opacity)


def render_png(plot: Plot, path: str) -> None:
    """Write the chart of `plot` as a PNG to `path`; LlmpipeError when Pillow is missing."""
    try:
        canvas = PngCanvas()
    except ImportError:
        raise LlmpipeError(
            "PNG export needs Pillow: pip install 'llmpipe[plots]' (the HTML page needs nothing)"
        ) from None
    draw(plot, canvas)
    canvas.image.save(path, format="PNG")
