"""`llmpipe metrics show/diff` (and, through `compare_group`, `llmpipe params`).

Values come from git objects and the cache through `llmpipe.compare`; this
module only parses flags and renders tables, Markdown and JSON.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, verbose_option

if TYPE_CHECKING:
    from ..compare.collect import Comparison, RevisionValues
    from ..compare.diff import Change
    from ..compare.revisions import Revision


def revision_options(func: Callable) -> Callable:
    """--rev, -A/-a/--all-branches, -T/--all-tags, --all-commits.

    `-A` for branches follows llmpipe's other commands (push, pull, gc); `-a`, DVC's
    short flag for branches, is accepted too. `--all-commits` has no short form,
    because DVC's `-A` means all commits and llmpipe's means all branches.
    """
    options = [
        click.option(
            "--rev", "revs", multiple=True, metavar="REV", help="A revision to show (repeatable)."
        ),
        click.option("-A", "-a", "--all-branches", is_flag=True, help="Show every branch."),
        click.option("-T", "--all-tags", is_flag=True, help="Show every tag."),
        click.option("--all-commits", is_flag=True, help="Show every commit."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(func: Callable) -> Callable:
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        click.option("--md", "as_md", is_flag=True, help="Print a Markdown table."),
        click.option(
            "--precision",
            type=int,
            default=5,
            show_default=True,
            help="Significant digits of floats.",
        ),
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_comparison() -> Comparison:
    from ..compare.collect import Comparison
    from ..project import Project

    repo = Project.discover()
    return Comparison(repo.root, repo.odb)


def compare_group(kind: str) -> click.Group:
    """The `show`/`diff` group for `kind` ("metrics" or "params")."""
    noun = "metric" if kind == "metrics" else "param"

    @click.group(name=kind, help=f"Show and compare {kind} across git revisions.")
    def group() -> None:
        pass

    @group.command(
        name="show", help=f"Show every {noun} of every file, one row per revision and file."
    )
    @click.argument("targets", nargs=-1)
    @revision_options
    @output_options
    @_kind_options(kind)
    def show(
        targets: tuple[str, ...],
        revs: tuple[str, ...],
        all_branches: bool,
        all_tags: bool,
        all_commits: bool,
        as_json: bool,
        as_md: bool,
        precision: int,
        verbose: bool,
        deps: bool = False,
    ) -> None:
        from ..compare.revisions import RevisionChoice

        choice = RevisionChoice(revs, all_branches, all_tags, all_commits)
        with open_comparison() as comparison:
            results = [
                _values(comparison, kind, rev, targets, deps) for rev in comparison.select(choice)
            ]
        _warn(results)
        if as_json:
            emit_json(_show_json(results))
            return
        headers, rows = _show_rows(results, precision)
        _print_table(headers, rows, as_md, f"no {kind} found")

    @group.command(
        name="diff",
        help=f"Compare {kind} of A_REV (default HEAD) with B_REV (default the workspace).",
    )
    @click.argument("a_rev", required=False, default="HEAD")
    @click.argument("b_rev", required=False)
    @click.option("--targets", multiple=True, metavar="FILE", help="Only these files (repeatable).")
    @click.option("--all", "include_all", is_flag=True, help="Include unchanged values.")
    @click.option(
        "--only",
        "only",
        multiple=True,
        metavar="KEY",
        help="Only keys matching KEY (a glob, repeatable).",
    )
    @output_options
    @_kind_options(kind)
    def diff(
        a_rev: str,
        b_rev: str | None,
        targets: tuple[str, ...],
        include_all: bool,
        only: tuple[str, ...],
        as_json: bool,
        as_md: bool,
        precision: int,
        verbose: bool,
        deps: bool = False,
    ) -> None:
        from ..compare.diff import changes_to_json, diff_values
        from ..compare.revisions import WORKSPACE, Revision, resolve

        with open_comparison() as comparison:
            old = Revision(a_rev, resolve(comparison.git_root, comparison.objects, a_rev))
            new = (
                Revision(b_rev, resolve(comparison.git_root, comparison.objects, b_rev))
                if b_rev
                else Revision(WORKSPACE, None)
            )
            pair = [_values(comparison, kind, rev, targets, deps) for rev in (old, new)]
        _warn(pair)
        changes = diff_values(
            pair[0].flat(kind == "params"), pair[1].flat(kind == "params"), include_all
        )
        changes = [c for c in changes if _matches(c, only)]
        if as_json:
            emit_json(changes_to_json(changes, stringify_lists=kind == "params"))
            return
        headers = ["Path", noun.capitalize(), old.name, new.name, "Change", "Relative"]
        rows = [_diff_row(c, precision) for c in changes]
        _print_table(headers, rows, as_md, f"no {kind} changed" if not include_all else "")

    return group


def _kind_options(kind: str) -> Callable:
    if kind != "params":
        return click.option(
            "--params",
            "deps",
            is_flag=True,
            help="Show params files too, in one table (like `dvc exp show`).",
        )
    return click.option("--deps", is_flag=True, help="Only params that stages track.")


def _values(
    comparison: Comparison, kind: str, revision: Revision, targets: Sequence[str], deps: bool
) -> RevisionValues:
    # For metrics, `deps` is the --params flag: params files join the metrics files.
    if kind == "metrics":
        values = comparison.metrics(revision, targets)
        if deps and values.error is None:
            values.files.update(comparison.params(revision).files)
        return values
    return comparison.params(revision, targets, deps_only=deps)


def _matches(change: Change, patterns: Sequence[str]) -> bool:
    if not patterns:
        return True
    names = (change.key, f"{change.path}:{change.key}")
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def _warn(results: Sequence[RevisionValues]) -> None:
    for result in results:
        if result.error:
            click.secho(f"WARNING: {result.error}", fg="yellow", err=True)
        for values in result.files.values():
            if values.error:
                click.secho(f"WARNING: {values.error}", fg="yellow", err=True)


def _show_json(results: Sequence[RevisionValues]) -> dict[str, Any]:
    """DVC's `metrics show --json` shape: {rev: {"data": {path: {"data": {...}}}}}."""
    out: dict[str, Any] = {}
    for result in results:
        if result.error:
            out[result.revision.name] = {"error": {"msg": result.error}}
            continue
        files = {
            path: {"data": v.data} if v.error is None else {"error": {"msg": v.error}}
            for path, v in result.files.items()
        }
        out[result.revision.name] = {"data": files}
    return out


def _show_rows(
    results: Sequence[RevisionValues], precision: int
) -> tuple[list[str], list[list[str]]]:
    from ..compare.render import format_value

    keep_lists = True
    keys: dict[str, None] = {}
    table: list[tuple[str, str, dict[str, Any]]] = []
    for result in results:
        for path, values in result.files.items():
            if values.error is None:
                flat = values.flat(keep_lists)
                keys.update(dict.fromkeys(flat))
                table.append((result.revision.name, path, flat))
    columns = sorted(keys)
    rows = [
        [rev, path, *(format_value(flat.get(k), precision) for k in columns)]
        for rev, path, flat in table
    ]
    return ["Revision", "Path", *columns], rows


def _diff_row(change: Change, precision: int) -> list[str]:
    from ..compare.render import format_relative, format_value

    return [
        change.path,
        change.key,
        format_value(change.old, precision),
        format_value(change.new, precision),
        format_value(change.diff, precision),
        format_relative(change.relative),
    ]


def _print_table(headers: list[str], rows: list[list[str]], as_md: bool, empty: str) -> None:
    from ..compare.render import markdown_table, text_table

    if not rows:
        if empty:
            click.echo(empty, err=True)
        return
    click.echo(markdown_table(headers, rows) if as_md else text_table(headers, rows))


metrics = compare_group("metrics")
