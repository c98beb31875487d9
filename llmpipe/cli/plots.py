"""`llmpipe plots show/diff`: a self-contained HTML page (and PNGs) of plots per revision,
or dvc's JSON of them.

Revisions follow `dvc plots diff`: none given, the workspace (and HEAD first when
tracked files changed); one, that revision and the workspace; more, just those.
A plots file a revision records but that could not be read is reported and the
command exits 1 after drawing the rest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import click

from .metrics import open_comparison
from .render import emit_json, verbose_option

DEFAULT_OUT = "llmpipe_plots"


@click.group(help="Draw plots of the workspace and of git revisions.")
def plots() -> None:
    pass


def plot_options(func):  # noqa: ANN001, ANN201
    options = [
        click.option(
            "--targets", multiple=True, metavar="PLOT", help="Only these plot ids or files."
        ),
        click.option("-o", "--out", default=DEFAULT_OUT, show_default=True, help="Output folder."),
        click.option("--png", is_flag=True, help="Write one PNG per plot too (needs Pillow)."),
        click.option("--json", "as_json", is_flag=True, help="Print dvc's JSON of the plots."),
        click.option("--md", "as_md", is_flag=True, help="Print a Markdown summary table."),
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@plots.command(help="Plot the workspace's plots files.")
@click.argument("files", nargs=-1)
@plot_options
def show(files: tuple[str, ...], targets: tuple[str, ...], out: str, png: bool,
         as_json: bool, as_md: bool, verbose: bool) -> None:  # fmt: skip
    _plot(["workspace"], (*files, *targets), out, png, as_json, as_md)


@plots.command(help="Overlay plots of REVISIONS (default: the workspace, and HEAD if changed).")
@click.argument("revisions", nargs=-1)
@plot_options
def diff(revisions: tuple[str, ...], targets: tuple[str, ...], out: str, png: bool,
         as_json: bool, as_md: bool, verbose: bool) -> None:  # fmt: skip
    from .. import scm

    revs = list(revisions)
    if len(revs) <= 1:
        if not revs and scm.is_dirty(os.getcwd()):
            revs.append("HEAD")
        revs.append("workspace")
    _plot(revs, targets, out, png, as_json, as_md)


def _plot(revs: list[str], targets: Sequence[str], out: str, png: bool, as_json: bool,
          as_md: bool) -> None:  # fmt: skip
    from ..compare.plots import collect_plots
    from ..compare.vega import plots_json
    from .metrics import _repo_paths, _revision

    if "workspace" in revs:  # as dvc: the workspace first
        revs = ["workspace", *(r for r in revs if r != "workspace")]
    with open_comparison() as comparison:
        revisions = [_revision(comparison, rev) for rev in dict.fromkeys(revs)]
        chosen = _repo_paths(comparison.root, targets)
        result = collect_plots(comparison, revisions, chosen)
        templates = os.path.join(comparison.root, ".dvc", "plots")
    for problem in result.problems:
        click.secho(f"WARNING: {problem}", fg="yellow", err=True)
    if as_json:
        emit_json(plots_json(result, out, templates), like_dvc=True)
    elif as_md:
        _print_markdown(result.plots)
    else:
        data = plots_json(result, None, templates)
        page = _write_outputs(result, [r.label for r in revisions], data, out, png)
        click.echo(f"Wrote {len(result.plots)} plot(s) to {page}")
    _fail_on_problems(result)


def _fail_on_problems(result) -> None:  # noqa: ANN001
    from ..errors import FileProblem

    unreadable = [e for e in result.errors + [e for p in result.plots for e in p.errors]
                  if e.get("type") != "FileAbsent"]  # fmt: skip
    if unreadable:
        revisions = ", ".join(repr(r) for r in dict.fromkeys(e["rev"] for e in unreadable))
        raise FileProblem(
            f"could not read plots of {revisions} (see the warnings above);"
            " what could not be read is not drawn"
        )


def _write_outputs(result, names, data, out, png) -> str:  # noqa: ANN001
    from ..compare.chart import render_png
    from ..compare.html import render_page
    from ..fsutil import atomic_write_text

    os.makedirs(out, exist_ok=True)
    page = os.path.join(out, "index.html")
    atomic_write_text(page, render_page(result.plots, names, result.problems, data))
    if png:
        for plot in result.plots:
            if plot.kind == "vega":
                render_png(plot, os.path.join(out, _file_name(plot.id) + ".png"))
    return page


def _file_name(plot_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id).strip("_") or "plot"


def _print_markdown(found) -> None:  # noqa: ANN001
    from ..compare.chart import series_of
    from ..compare.render import format_value, markdown_table

    rows = []
    for plot in found:
        if plot.kind == "image":
            rows += [[plot.id, image.revision, image.filename, "image", "-"]
                     for image in plot.images]  # fmt: skip
            continue
        for series in series_of(plot):
            last = series.points[-1][1] if series.points else None
            rows.append([plot.id, series.revision, f"{series.file}:{series.field}",
                         str(len(series.points)), format_value(last)])  # fmt: skip
    click.echo(markdown_table(["Plot", "Revision", "Series", "Points", "Last y"], rows), nl=False)
