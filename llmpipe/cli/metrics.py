"""`llmpipe metrics show/diff` (and, through `compare_group`, `llmpipe params`).

Values come from git objects and the cache through `llmpipe.compare`; this
module parses flags and prints dvc's tables, Markdown and JSON. A file that a
revision records but that could not be read is shown as such (an `error` entry,
`-` in tables) and makes the command exit 1: never a silent "no change".
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, verbose_option

if TYPE_CHECKING:
    from ..compare.collect import Comparison, RevisionValues
    from ..compare.diff import Change
    from ..compare.revisions import Revision, RevisionChoice


def revision_options(func: Callable) -> Callable:
    """dvc's -a/--all-branches, -T/--all-tags, -A/--all-commits, and llmpipe's --rev."""
    options = [
        click.option(
            "--rev", "revs", multiple=True, metavar="REV", help="A revision to show (repeatable)."
        ),
        click.option("-a", "--all-branches", is_flag=True, help="Show every branch."),
        click.option("-T", "--all-tags", is_flag=True, help="Show every tag."),
        click.option("-A", "--all-commits", is_flag=True, help="Show every commit."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_options(func: Callable) -> Callable:
    options = [
        click.option("--json", "as_json", is_flag=True, help="Print JSON (dvc's shape)."),
        click.option("--md", "as_md", is_flag=True, help="Print a Markdown table."),
        click.option(
            "--precision",
            type=int,
            help="Round floats to this many decimal places (metrics: 5 by default).",
        ),
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@contextmanager
def open_comparison() -> Iterator[Comparison]:
    """A `Comparison` of this project that fetches what the cache lacks from its remote."""
    from ..compare.collect import Comparison
    from ..ops.compare import fetcher
    from .session import open_project

    with (
        open_project() as project,
        Comparison(project.root, project.odb, fetcher(project)) as comparison,
    ):
        yield comparison


def compare_group(kind: str) -> click.Group:
    """The `show`/`diff` group for `kind` ("metrics" or "params")."""
    noun = "metric" if kind == "metrics" else "param"

    @click.group(name=kind, help=f"Show and compare {kind} across git revisions.")
    def group() -> None:
        pass

    @group.command(name="show", help=f"Show every {noun} of every file, per revision and file.")
    @click.argument("targets", nargs=-1)
    @revision_options
    @output_options
    @_kind_options(kind)
    def show(targets: tuple[str, ...], revs: tuple[str, ...], all_branches: bool,
             all_tags: bool, all_commits: bool, as_json: bool, as_md: bool,
             precision: int | None, verbose: bool, deps: bool = False) -> None:  # fmt: skip
        from ..compare.revisions import RevisionChoice

        choice = RevisionChoice(revs, all_branches, all_tags, all_commits)
        with open_comparison() as comparison:
            paths = _repo_paths(comparison.root, targets)
            results = [
                _values(comparison, kind, rev, paths, deps) for rev in comparison.select(choice)
            ]
            results = _hide_workspace(comparison.root, choice, results)
        _warn(results)
        precision = _precision(kind, precision)
        if as_json:
            emit_json({r.revision.name: _revision_json(r, comparison.root) for r in results},
                      like_dvc=True)  # fmt: skip
        elif kind == "metrics" and deps:
            _print_table(*_experiment_rows(results, precision, choice.any), as_md)
        else:
            _print_table(*_show_rows(results, precision, choice.any, comparison.root), as_md)
        _fail_on_problems(kind, results)

    @group.command(
        name="diff",
        help=f"Compare {kind} of A_REV (default HEAD) with B_REV (default the workspace).",
    )
    @click.argument("a_rev", required=False, default="HEAD")
    @click.argument("b_rev", required=False)
    @click.option("--targets", multiple=True, metavar="FILE", help="Only these files (repeatable).")
    @click.option("--all", "include_all", is_flag=True, help="Include unchanged values.")
    @click.option("--no-path", is_flag=True, help="Leave out the Path column.")
    @click.option(
        "--only", multiple=True, metavar="KEY", help="Only keys matching KEY (a glob, repeatable)."
    )
    @output_options
    @_kind_options(kind)
    def diff(a_rev: str, b_rev: str | None, targets: tuple[str, ...], include_all: bool,
             no_path: bool, only: tuple[str, ...], as_json: bool, as_md: bool,
             precision: int | None, verbose: bool, deps: bool = False) -> None:  # fmt: skip
        from ..compare.diff import changes_to_json, diff_values

        with open_comparison() as comparison:
            old, new = (_revision(comparison, rev) for rev in (a_rev, b_rev))
            paths = _repo_paths(comparison.root, targets)
            pair = [_values(comparison, kind, rev, paths, deps) for rev in (old, new)]
        _warn(pair)
        keep_lists = kind == "params"
        changes = diff_values(pair[0].flat(keep_lists), pair[1].flat(keep_lists), include_all)
        changes = [c for c in changes if _matches(c, only)]
        if as_json:
            found = changes_to_json(changes, stringify_lists=keep_lists)
            emit_json(_relative(found, comparison.root), like_dvc=True)
        else:
            titles = (a_rev, b_rev or "workspace")
            table = _diff_rows(changes, kind, titles, _precision(kind, precision), no_path)
            _print_table(*_relative_rows(table, comparison.root, no_path), as_md)
            if not changes and not include_all:
                click.echo(f"no {kind} changed", err=True)
        _fail_on_problems(kind, pair)

    return group


def _kind_options(kind: str) -> Callable:
    if kind != "params":
        return click.option(
            "--params",
            "deps",
            is_flag=True,
            help="Show params too: one row per revision (like `dvc exp show`).",
        )
    return click.option("--deps", is_flag=True, help="Only params that stages depend on.")


def _precision(kind: str, precision: int | None) -> int | None:
    from ..compare.render import DEFAULT_PRECISION

    return precision if precision is not None or kind != "metrics" else DEFAULT_PRECISION


def _revision(comparison: Comparison, rev: str | None) -> Revision:
    from ..compare.revisions import WORKSPACE, Revision, resolve

    if rev is None or rev == WORKSPACE:
        return Revision(WORKSPACE, None)
    return Revision(rev, resolve(comparison.git_root, comparison.objects, rev))


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


def _hide_workspace(
    root: str, choice: RevisionChoice, results: list[RevisionValues]
) -> list[RevisionValues]:
    """As dvc: the workspace is left out when it shows what the checked-out branch shows."""
    from .. import scm

    branch = scm.current_branch(root)
    by_name = {r.revision.name: r for r in results}
    workspace, checked_out = by_name.get("workspace"), by_name.get(branch or "")
    if choice.any and workspace and checked_out and workspace.to_json() == checked_out.to_json():
        return [r for r in results if r is not workspace]
    return results


def _repo_paths(root: str, targets: Sequence[str]) -> list[str]:
    """Targets named from the current folder, as repository-relative posix paths."""
    return [os.path.relpath(os.path.abspath(t), root).replace(os.sep, "/") for t in targets]


def _shown_path(root: str, path: str) -> str:
    """A repository path as dvc prints it: relative to the current folder inside the project."""
    cwd = os.path.abspath(os.getcwd())
    if cwd == root or not cwd.startswith(root + os.sep):
        return path
    return os.path.relpath(os.path.join(root, path), cwd).replace(os.sep, "/")


def _relative(paths: dict[str, Any], root: str) -> dict[str, Any]:
    """`{path: …}` with the paths as dvc prints them."""
    return {_shown_path(root, path): value for path, value in paths.items()}


def _revision_json(result: RevisionValues, root: str) -> dict[str, Any]:
    shown = result.to_json()
    if "data" in shown:
        shown["data"] = _relative(shown["data"], root)
    return shown


def _relative_rows(
    table: tuple[list[str], list[list[str]]], root: str, no_path: bool
) -> tuple[list[str], list[list[str]]]:
    headers, rows = table
    if no_path:
        return headers, rows
    return headers, [[_shown_path(root, row[0]), *row[1:]] for row in rows]


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
            if values.error is not None:
                click.secho(f"WARNING: {values.error}", fg="yellow", err=True)


def _fail_on_problems(kind: str, results: Sequence[RevisionValues]) -> None:
    """Exit 1 (after the output) when a revision, or a file it records, could not be read."""
    from ..errors import FileProblem

    failed = [r.revision.label for r in results if r.problems]
    if failed:
        raise FileProblem(
            f"could not read {kind} of {', '.join(repr(n) for n in dict.fromkeys(failed))}"
            " (see the warnings above); no value is shown for what could not be read"
        )


def _show_rows(
    results: Sequence[RevisionValues], precision: int | None, by_revision: bool, root: str
) -> tuple[list[str], list[list[str]]]:
    """dvc's `metrics show` table: a row per revision and file (unreadable ones too)."""
    from ..compare.render import format_value

    keys: dict[str, None] = {}
    table: list[tuple[str, str, dict[str, Any]]] = []
    for result in results:
        for path, values in result.files.items():
            flat = values.flat(keep_lists=True)
            keys.update(dict.fromkeys(flat))
            table.append((result.revision.label, _shown_path(root, path), flat))
    columns = sorted(keys)
    rows = [
        [rev, path, *(format_value(flat.get(k), precision) for k in columns)]
        for rev, path, flat in table
    ]
    if not by_revision:
        return ["Path", *columns], [row[1:] for row in rows]
    return ["Revision", "Path", *columns], rows


def _experiment_rows(
    results: Sequence[RevisionValues], precision: int | None, by_revision: bool
) -> tuple[list[str], list[list[str]]]:
    """One row per revision with every metric and param, as `dvc exp show` lays it out.

    A column is the key, or `path:key` when files share the key; `!` marks a file
    that could not be read.
    """

    files = list(dict.fromkeys(path for result in results for path in result.files))
    found: dict[tuple[str, str], None] = {}
    for result in results:
        for path, values in result.files.items():
            found.update(dict.fromkeys((path, key) for key in values.flat(keep_lists=True)))
    columns = sorted(found, key=lambda column: files.index(column[0]))  # stable: keys in order
    owners: dict[str, set[str]] = {}
    for path, key in columns:
        owners.setdefault(key, set()).add(path)
    headers = [key if len(owners[key]) == 1 else f"{path}:{key}" for path, key in columns]
    rows = []
    for result in results:
        flat = result.flat(keep_lists=True)
        cells = [_cell(result, flat, path, key, precision) for path, key in columns]
        rows.append([result.revision.label, *cells] if by_revision else cells)
    return (["Revision", *headers] if by_revision else headers), rows


def _cell(
    result: RevisionValues,
    flat: dict[str, dict[str, Any]],
    path: str,
    key: str,
    precision: int | None,
) -> str:
    from ..compare.render import format_value

    values = result.files.get(path)
    if values is not None and values.unreadable:
        return "!"
    return format_value(flat.get(path, {}).get(key), precision)


def _diff_rows(
    changes: Sequence[Change],
    kind: str,
    titles: tuple[str, str],
    precision: int | None,
    no_path: bool,
) -> tuple[list[str], list[list[str]]]:
    """dvc's diff table (params: no Change column), llmpipe's Relative after it for metrics."""
    from ..compare.render import format_relative, format_value

    title = "Metric" if kind == "metrics" else "Param"
    headers = ["Path", title, *titles] + (["Change", "Relative"] if kind == "metrics" else [])
    rows = []
    for change in changes:
        row = [change.path, change.key, format_value(_shown(change.old), precision),
               format_value(_shown(change.new), precision)]  # fmt: skip
        if kind == "metrics":
            row += [format_value(change.diff, precision), format_relative(change.relative)]
        rows.append(row)
    if no_path:
        return headers[1:], [row[1:] for row in rows]
    return headers, rows


def _shown(value: Any) -> Any:
    return str(value) if isinstance(value, list) else value


def _print_table(headers: list[str], rows: list[list[str]], as_md: bool) -> None:
    from ..compare.render import markdown_table, text_table

    text = markdown_table(headers, rows) if as_md else text_table(headers, rows)
    if text:
        click.echo(text)


metrics = compare_group("metrics")
