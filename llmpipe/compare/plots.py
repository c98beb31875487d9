"""Plot data of each revision: series of (x, y) points read from CSV/TSV/JSON/YAML.

Plots come from stages' `plots` outputs and the top-level `plots:` section.
Options follow DVC: `x` and `y` name fields (or map files to fields), `title`,
`x_label`, `y_label`. Without `x` the row index is used (or `step` when the
data has it); without `y` the last field that is not `x`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import FileProblem
from ..metrics import parse_data
from .collect import Comparison
from .formats import read_tracked
from .pipeline import PlotDef, TrackedFile
from .revisions import Revision


@dataclass(frozen=True)
class Series:
    """One line: a revision's values of field `y` of `file`."""

    revision: str
    file: str
    y: str
    points: tuple[tuple[float, float], ...]

    def label(self, many_fields: bool) -> str:
        return f"{self.revision} {self.file}:{self.y}" if many_fields else self.revision


@dataclass
class Figure:
    """A plot with every revision's series overlaid."""

    id: str
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def many_fields(self) -> bool:
        return len({(s.file, s.y) for s in self.series}) > 1


def collect_figures(
    comparison: Comparison, revisions: Sequence[Revision], targets: Sequence[str] = ()
) -> tuple[list[Figure], list[str]]:
    """Figures over `revisions` (only `targets` ids/files if given) and revision errors."""
    figures: dict[str, Figure] = {}
    problems: list[str] = []
    for revision in revisions:
        pipeline = comparison.pipeline(revision)
        if pipeline.error or not pipeline.dvcyamls:
            problems.append(f"{revision.name}: {pipeline.error or 'no dvc.yaml at this revision'}")
            continue
        for plot in pipeline.plots:
            if targets and not _targeted(plot, targets):
                continue
            figure = figures.setdefault(plot.id, _new_figure(plot))
            _add_series(comparison, revision, plot, figure)
    return list(figures.values()), problems


def _targeted(plot: PlotDef, targets: Sequence[str]) -> bool:
    return plot.id in targets or any(f.path in targets for f in plot.files)


def _new_figure(plot: PlotDef) -> Figure:
    props = plot.props
    x = props.get("x")
    return Figure(
        id=plot.id,
        title=str(props.get("title") or plot.id),
        x_label=str(props.get("x_label") or (x if isinstance(x, str) else "step")),
        y_label=str(props.get("y_label") or _y_name(props.get("y"))),
    )


def _y_name(y: Any) -> str:
    if isinstance(y, str):
        return y
    if isinstance(y, list) and len(y) == 1:
        return str(y[0])
    return ""


def _add_series(comparison: Comparison, revision: Revision, plot: PlotDef, figure: Figure) -> None:
    for tracked in plot.files:
        try:
            records = _records(comparison, revision, tracked)
        except FileProblem as exc:
            figure.errors.append(str(exc))
            continue
        if not records:
            continue
        x_field = _x_field(plot.props.get("x"), tracked.path, records[0])
        for y_field in _y_fields(plot.props.get("y"), tracked.path, records[0], x_field):
            points = tuple(_points(records, x_field, y_field))
            figure.series.append(Series(revision.name, tracked.path, y_field, points))


def _records(comparison: Comparison, revision: Revision, tracked: TrackedFile) -> list[dict]:
    tree = comparison.tree(revision)
    content = read_tracked(tree, tracked, comparison.odb, revision.name)
    data = parse_data(content, tracked.path, revision.name)
    if isinstance(data, dict):  # DVC reads the first list found in a mapping
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FileProblem(f"'{tracked.path}' at {revision.name}: expected a list of records")
    return data


def _x_field(x: Any, path: str, first: dict) -> str | None:
    if isinstance(x, dict):
        x = x.get(path) or next(iter(x.values()), None)
    if isinstance(x, str):
        return x
    return "step" if "step" in first else None


def _y_fields(y: Any, path: str, first: dict, x_field: str | None) -> list[str]:
    if isinstance(y, dict):
        y = y.get(path)
    if isinstance(y, str):
        return [y]
    if isinstance(y, list):
        return [str(v) for v in y]
    candidates = [k for k in first if k != x_field]
    return candidates[-1:]


def _points(records: list[dict], x_field: str | None, y_field: str) -> list[tuple[float, float]]:
    points = []
    for index, record in enumerate(records):
        x = index if x_field is None else _number(record.get(x_field))
        y = _number(record.get(y_field))
        if x is not None and y is not None:
            points.append((x, y))
    return points


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def figures_to_json(figures: list[Figure]) -> dict[str, Any]:
    """{plot id: {title, x_label, y_label, series: [{revision, file, y, points}]}}."""
    return {
        f.id: {
            "title": f.title,
            "x_label": f.x_label,
            "y_label": f.y_label,
            "series": [
                {"revision": s.revision, "file": s.file, "y": s.y, "points": list(s.points)}
                for s in f.series
            ],
            "errors": f.errors,
        }
        for f in figures
    }
