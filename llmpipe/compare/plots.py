"""Plots of revisions, assembled as dvc assembles them.

Definitions come from each dvc.yaml's top-level `plots:` and from stages'
`plots` outputs; a definition that names a folder is one plot per file in it.
Each plot's data files are read per revision (CSV and TSV rows keep their
text, as in dvc) and turned into dvc's flat datapoints: one record per row,
per `y` field, with `rev`, `filename` and `field`, the x value from `x` (or the
row index as `step`), and `dvc_inferred_y_value` when a plot draws several
fields. Images (`.png`, `.jpg`, `.jpeg`, `.gif`, `.svg`) are plots of their
own. Problems are values (dvc's `errors` entries); the rest is still drawn.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import FileProblem, LlmpipeError
from ..metrics import parse_plot_data
from .collect import Comparison
from .formats import RevisionFiles
from .pipeline import PlotDef
from .revisions import Revision

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".gif", ".png", ".svg")
DATA_EXTENSIONS = (".json", ".yaml", ".yml", ".toml", ".csv", ".tsv")
INDEX = "step"  # the x field when a plot has no x: the row index
INFERRED_X, INFERRED_Y = "dvc_inferred_x_value", "dvc_inferred_y_value"


@dataclass(frozen=True)
class Image:
    revision: str
    filename: str
    content: bytes


@dataclass
class Plot:
    """One plot over every revision: dvc's datapoints and properties, or images.

    `kind` is "vega" (data) or "image"; `revisions` are those with data, in order.
    `errors` are dvc's entries for it: `{"name", "rev", ["source",] "type", "msg"}`.
    """

    id: str
    kind: str
    properties: dict[str, Any] = field(default_factory=dict)
    datapoints: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def template(self) -> str:
        return str(self.properties.get("template") or "linear")


@dataclass
class PlotsResult:
    plots: list[Plot]
    errors: list[dict[str, Any]]  # revisions whose plots could not be read: {"rev", …}

    @property
    def problems(self) -> list[str]:
        """Each error as one line for people."""
        lines = [f"{e['rev']}: {e['msg']}" for e in self.errors]
        for entry in (e for plot in self.plots for e in plot.errors):
            # A file's message names the file and the revision; a plot's does not.
            where = "" if "source" in entry else f"plot '{entry['name']}' at {entry['rev']}: "
            lines.append(where + entry["msg"])
        return lines


def error_entry(exc: Exception, **where: str) -> dict[str, Any]:
    return {**where, "type": type(exc).__name__, "msg": str(exc)}


def collect_plots(
    comparison: Comparison, revisions: Sequence[Revision], targets: Sequence[str] = ()
) -> PlotsResult:
    """Every plot (only `targets`: plot ids, as regular expressions, or files) over `revisions`."""
    groups: dict[str, list[tuple[Revision, str, dict[str, Any]]]] = {}
    errors = []
    for revision in revisions:
        pipeline = comparison.pipeline(revision)
        if pipeline.error:
            errors.append(error_entry(LlmpipeError(pipeline.error), rev=revision.label))
            continue
        files = comparison.files(revision)
        for plot_id, (inner_id, props) in _by_id(_definitions(files, pipeline.plots, targets)):
            groups.setdefault(plot_id, []).append((revision, inner_id, props))
    plots = [_assemble(comparison, plot_id, group) for plot_id, group in groups.items()]
    return PlotsResult(plots, errors)


# -- definitions ------------------------------------------------------------------


def _definitions(
    files: RevisionFiles, plots: Sequence[PlotDef], targets: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """{config file ('' for outputs): {plot id: props}} of one revision, in dvc's order."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    by_config: dict[str, list[PlotDef]] = {}
    for plot in plots:
        by_config.setdefault(plot.config, []).append(plot)
    for config, defined in by_config.items():
        parents = [p.id for p in defined]
        for plot in defined:
            if not _matches(targets, config, plot.id):
                continue
            if not plot.is_path:
                found.setdefault(config, {})[plot.id] = plot.props
                continue
            for path in files.files_under(plot.id):
                if config == "" or _closest(path, parents) == plot.id:
                    found.setdefault(config, {}).setdefault(path, {}).update(plot.props)
    for target in targets:
        if not found or files.exists(target):
            for path in files.files_under(target):
                found.setdefault("", {}).setdefault(path, {})
    return found


def _matches(targets: Sequence[str], config: str, plot_id: str) -> bool:
    full = f"{config}::{plot_id}" if config else plot_id
    return not targets or any(re.match(t, plot_id) or re.match(t, full) for t in targets)


def _closest(path: str, parents: list[str]) -> str:
    """The plot id among `parents` sharing the longest leading path with `path`."""
    best = ""
    for parent in parents:
        common = posixpath.commonpath([path, parent])
        if len(common) > len(best):
            best = common
    return best


def _by_id(
    definitions: dict[str, dict[str, dict[str, Any]]],
) -> Iterator[tuple[str, tuple[str, dict[str, Any]]]]:
    """(plot id, (id in its file, props)); an id several files define is `file::id`."""
    configs: dict[str, dict[str, dict[str, Any]]] = {}
    for config, plots in definitions.items():
        for plot_id, props in plots.items():
            configs.setdefault(plot_id, {})[config] = props
    for plot_id, owners in configs.items():
        for config, props in owners.items():
            shown = plot_id if len(owners) == 1 or not config else f"{config}::{plot_id}"
            yield shown, (plot_id, props)


# -- one plot over the revisions ------------------------------------------------


def _assemble(
    comparison: Comparison, plot_id: str, group: list[tuple[Revision, str, dict[str, Any]]]
) -> Plot:
    """dvc's renderer for one plot: the first revision's options win, data from all."""
    props: dict[str, Any] = {}
    for _, _, rev_props in reversed(group):
        props = props | rev_props
    is_image = posixpath.splitext(group[0][1])[1].lower() in IMAGE_EXTENSIONS
    plot = Plot(plot_id if not is_image else group[0][1], "image" if is_image else "vega")
    first: dict[str, Any] = {}
    for revision, inner_id, _ in group:
        sources = _sources(inner_id, props)
        data = _read_sources(comparison.files(revision), sources, props, plot, revision.label)
        if is_image:
            plot.images += [Image(revision.label, name, content) for name, content in data.items()]
            _note_revision(plot, revision.label, bool(data))
            continue
        try:
            points, rev_props = flat_datapoints(inner_id, data, props, revision.label)
        except FileProblem as exc:
            plot.errors.append(error_entry(exc, name=plot.id, rev=revision.label))
            continue
        _note_revision(plot, revision.label, bool(points))
        first = first or rev_props
        plot.datapoints += points
    plot.properties = {**first, **({"title": plot.id} if "title" not in first else {})}
    if is_image:
        plot.properties = {"title": plot.id}
    return plot


def _note_revision(plot: Plot, label: str, has_data: bool) -> None:
    if has_data and label not in plot.revisions:
        plot.revisions.append(label)


def _sources(plot_id: str, props: dict[str, Any]) -> list[str]:
    """The files a plot reads: the keys of a mapping `y` (else its id), and of `x`'s first."""
    y, x = props.get("y"), props.get("x")
    sources = list(y) if isinstance(y, dict) else [plot_id]
    if isinstance(x, dict) and x:
        sources.append(next(iter(x)))
    return list(dict.fromkeys(sources))


def _read_sources(
    files: RevisionFiles, sources: list[str], props: dict[str, Any], plot: Plot, label: str
) -> dict[str, Any]:
    data = {}
    for source in sources:
        try:
            content = _read_source(files, source, props)
        except FileProblem as exc:
            plot.errors.append(error_entry(exc, name=plot.id, rev=label, source=source))
            continue
        if content:
            data[source] = content
    return data


def _read_source(files: RevisionFiles, source: str, props: dict[str, Any]) -> Any:
    ext = posixpath.splitext(source)[1].lower()
    if ext in IMAGE_EXTENSIONS:
        return files.read(source)
    if ext not in DATA_EXTENSIONS:
        raise FileProblem(
            f"'{source}' - file type error: only JSON, YAML, CSV and TSV formats are supported"
        )
    return parse_plot_data(files.read(source), source, files.label, props.get("header", True))


# -- dvc's datapoints ---------------------------------------------------------------


def flat_datapoints(
    plot_id: str, data: dict[str, Any], props: dict[str, Any], revision: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records one revision gives a plot, and the plot's options completed from them.

    FileProblem when a named field is missing or x and y files do not line up.
    """
    props = _completed(plot_id, data, props)
    rows = {name: _records(content) for name, content in data.items()}
    xs = list(_axis_fields(props.get("x"), rows))
    ys = list(_axis_fields(props.get("y"), rows))
    if len(xs) > 1 and len(xs) != len(ys):
        raise FileProblem(
            "Cannot have different number of x and y data sources. "
            f"Found {len(xs)} x and {len(ys)} y data sources."
        )
    update = _unified_axes(xs, ys)
    points: list[dict[str, Any]] = []
    for index, (y_file, y_field) in enumerate(ys):
        x_file, x_field = xs[index] if len(xs) > 1 else xs[0] if xs else (None, INDEX)
        records = [dict(record) for record in rows.get(y_file, [])]
        if update["y"] == INFERRED_Y:
            _copy_field(records, INFERRED_Y, records, y_field)
        _add_x(records, rows, (x_file, x_field), update["x"], (y_file, y_field))
        shown = _short(y_file, _prefix(ys))
        for record in records:
            record.update({"rev": revision, "filename": shown, "field": y_field})
        points += records
    return (points, props | update) if points else ([], {})


def _prefix(ys: list[tuple[str, str]]) -> int:
    """How much of the y files' paths they share (left out of `filename`), as dvc."""
    files = {f for f, _ in ys}
    return len(os.path.commonpath(list(files))) if len(files) > 1 else 0


def _unified_axes(xs: list[tuple[str, str]], ys: list[tuple[str, str]]) -> dict[str, Any]:
    """The x and y fields the records end up with, and dvc's y definitions."""
    several_x = len(xs) > 1 and len({f for _, f in xs}) > 1
    y_fields = {f for _, f in ys}
    return {
        "x": INFERRED_X if several_x else (xs[0][1] if xs else INDEX),
        "y": INFERRED_Y if len(y_fields) > 1 else next(iter(y_fields), None),
        "anchors_y_definitions": [
            {"filename": _short(f, _prefix(ys)), "field": field} for f, field in ys
        ],
    }


def _add_x(
    records: list[dict],
    rows: dict[str, list[dict]],
    x: tuple[str | None, str],
    target: str,
    y: tuple[str, str],
) -> None:
    """Give each record its x: the row index, or the x field of the x file's row."""
    (x_file, x_field), (y_file, y_field) = x, y
    if x_file is None and x_field == INDEX:
        for position, record in enumerate(records):
            record[INDEX] = position
        return
    source = rows.get(x_file or "", [])
    if len(source) != len(records):
        raise FileProblem(
            f"Cannot join '{x_field}' from '{x_file}' and '{y_field}' from "
            f"'{y_file}'. They have to have same length."
        )
    _copy_field(records, target, source, x_field)


def _completed(plot_id: str, data: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """`props` with x and y as {file: field(s)} and the axis labels filled in."""
    x, y = props.get("x"), props.get("y")
    inferred: dict[str, Any] = {}
    if isinstance(x, str):
        if isinstance(y, dict):
            inferred["x"] = {f: [x] * len(v) if isinstance(v, list) else x for f, v in y.items()}
        else:
            inferred["x"] = {plot_id: x}
    if y is None:
        inferred["y"] = _last_field(plot_id, data)
    elif not isinstance(y, dict):
        inferred["y"] = {plot_id: y}
    done = props | inferred
    done["y_label"] = _label(done, "y", None)
    done["x_label"] = _label(done, "x", INDEX)
    return done


def _last_field(plot_id: str, data: dict[str, Any]) -> dict[str, str] | None:
    for records in _lists(data.get(plot_id, {})) if plot_id in data else ():
        if records and all(isinstance(r, dict) for r in records):
            return {plot_id: list(records[0])[-1]}
    return None


def _label(props: dict[str, Any], axis: str, default: str | None) -> Any:
    given = props.get(f"{axis}_label")
    if given is not None:
        return given
    value = props.get(axis)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return axis
    if not isinstance(value, dict):
        return default
    fields = {f for _, f in _file_fields(value)}
    return next(iter(fields)) if len(fields) == 1 else axis


def _file_fields(axis: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, value in axis.items():
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, list):
            yield from ((name, v) for v in value)


def _axis_fields(axis: Any, rows: dict[str, list[dict]]) -> Iterator[tuple[str, str]]:
    """(file, field) pairs of a completed axis; FileProblem for a field the data lacks."""
    if not isinstance(axis, dict):
        return
    for name, wanted in _file_fields(axis):
        if rows.get(name) and wanted not in rows[name][0]:
            found = ", ".join(rows[name][0])
            raise FileProblem(
                f"Could not find provided field ('{wanted}') in data fields ('{found}')."
            )
        yield name, wanted


def _lists(blob: Any) -> Iterator[list]:
    """Every list in `blob` (a list itself, or found in a mapping at any depth)."""
    if isinstance(blob, list):
        yield blob
    elif isinstance(blob, dict):
        for value in blob.values():
            if isinstance(value, dict):
                yield from _lists(value)
            elif isinstance(value, list):
                yield value


def _records(content: Any) -> list[dict[str, Any]]:
    """dvc's rows of a data file: every list of same-keyed records, merged row by row."""
    rows: list[dict[str, Any]] = []
    for records in _lists(content):
        if not all(isinstance(r, dict) for r in records):
            continue
        keys = {key for record in records for key in record}
        if records and set(records[0]) != keys:
            continue
        for index, record in enumerate(records):
            if len(rows) <= index:
                rows.append({})
            rows[index].update(record)
    return rows


def _copy_field(target: list[dict], name: str, source: list[dict], source_field: str) -> None:
    for record, origin in zip(target, source, strict=False):
        if source_field in origin:
            record[name] = origin[source_field]


def _short(path: str, prefix: int) -> str:
    return path[prefix:].strip("/\\")
