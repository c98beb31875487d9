"""`llmpipe plots show/diff`: a self-contained HTML page (and PNGs) of plots per revision."""

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
        click.option("--json", "as_json", is_flag=True, help="Print the plotted data as JSON."),
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
    _plot([], (*files, *targets), out, png, as_json, as_md, workspace=True)


@plots.command(help="Overlay plots of REVISIONS (default: HEAD and the workspace).")
@click.argument("revisions", nargs=-1)
@plot_options
def diff(revisions: tuple[str, ...], targets: tuple[str, ...], out: str, png: bool,
         as_json: bool, as_md: bool, verbose: bool) -> None:  # fmt: skip
    revs = list(revisions) or ["HEAD"]
    _plot(revs, targets, out, png, as_json, as_md, workspace=not revisions)


def _plot(revs: list[str], targets: Sequence[str], out: str, png: bool, as_json: bool,
          as_md: bool, workspace: bool) -> None:  # fmt: skip
    from ..compare.plots import collect_figures, figures_to_json
    from ..compare.revisions import RevisionChoice

    with open_comparison() as comparison:
        revisions = comparison.select(RevisionChoice(revs, workspace=workspace))
        figures, problems = collect_figures(comparison, revisions, targets)
    for problem in problems + [e for f in figures for e in f.errors]:
        click.secho(f"WARNING: {problem}", fg="yellow", err=True)
    if as_json:
        emit_json(figures_to_json(figures))
        return
    if as_md:
        _print_markdown(figures)
        return
    page = _write_outputs(figures, [r.name for r in revisions], problems, out, png)
    click.echo(f"Wrote {len(figures)} plot(s) to {page}")


def _write_outputs(figures, names, problems, out, png) -> str:  # noqa: ANN001
    from ..compare.chart import render_png
    from ..compare.html import render_page
    from ..fsutil import atomic_write_text

    os.makedirs(out, exist_ok=True)
    page = os.path.join(out, "index.html")
    atomic_write_text(page, render_page(figures, names, problems))
    if png:
        for figure in figures:
            render_png(figure, os.path.join(out, _file_name(figure.id) + ".png"))
    return page


def _file_name(plot_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id).strip("_") or "plot"


def _print_markdown(figures) -> None:  # noqa: ANN001
    from ..compare.render import format_value, markdown_table

    rows = [
        [f.id, s.revision, f"{s.file}:{s.y}", str(len(s.points)),
         format_value(s.points[-1][1] if s.points else None)]
        for f in figures
        for s in f.series
    ]  # fmt: skip
    click.echo(markdown_table(["Plot", "Revision", "Series", "Points", "Last y"], rows))
