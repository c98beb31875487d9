"""`llmpipe diff`: tracked files added, deleted, modified or renamed between revisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, quiet_stdout, verbose_option

if TYPE_CHECKING:
    from ..ops.diff import Change, DataDiff

_STATES = ("added", "deleted", "renamed", "modified", "not in cache")
_COLORS = {"added": "green", "deleted": "red", "renamed": "green", "modified": "yellow"}


@click.command()
@click.argument("a_rev", required=False, default="HEAD")
@click.argument("b_rev", required=False)
@click.option(
    "--targets",
    multiple=True,
    metavar="PATH",
    help="Compare only these tracked paths (repeat the option for several).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--md", "markdown", is_flag=True, help="Print a Markdown table.")
@click.option("--show-hash", is_flag=True, help="Show the hash of each entry.")
@click.option("--hide-missing", is_flag=True, help="Leave out the 'not in cache' entries.")
@verbose_option
@quiet_stdout
def diff(
    a_rev: str,
    b_rev: str | None,
    targets: tuple[str, ...],
    as_json: bool,
    markdown: bool,
    show_hash: bool,
    hide_missing: bool,
    verbose: bool,
) -> None:
    """Show tracked data added, deleted, modified or renamed from A_REV (default HEAD)
    to B_REV (default: the workspace), inside directories too."""
    from ..ops.diff import data_diff
    from .session import open_project

    with open_project() as project:
        result = data_diff(project, a_rev, b_rev, targets)
    shown = _as_dvc(result, show_hash, hide_missing or b_rev is not None)
    if as_json:
        emit_json(shown, like_dvc=True)
    elif markdown:
        _print_markdown(shown, show_hash)
    elif shown:
        _print_groups(shown)


def _as_dvc(result: DataDiff, show_hash: bool, hide_missing: bool) -> dict[str, list[Any]]:
    """dvc's JSON: every state's list (empty ones too), `{}` when nothing differs."""
    if not result:
        return {}
    shown = {
        "added": [_entry(c, c.new, show_hash) for c in result.added],
        "deleted": [_entry(c, c.old, show_hash) for c in result.deleted],
        "modified": [_entry(c, {"old": c.old, "new": c.new}, show_hash) for c in result.modified],
        "renamed": [
            _entry(c, c.old, show_hash, {"old": c.path, "new": c.new_path}) for c in result.renamed
        ],
    }
    if not hide_missing:
        shown["not in cache"] = [_entry(c, c.old, show_hash) for c in result.not_in_cache]
    return shown


def _entry(change: Change, hashes: Any, show_hash: bool, path: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path if path is not None else change.path}
    if show_hash:
        entry["hash"] = hashes
    return entry


def _path_text(entry: dict[str, Any]) -> str:
    path = entry["path"]
    return f"{path['old']} -> {path['new']}" if isinstance(path, dict) else path


def _digest(value: Any) -> str:
    if isinstance(value, dict):
        return f"{(value['old'] or '')[:8]}..{(value['new'] or '')[:8]}"
    return (value or "")[:8]


def _print_groups(shown: dict[str, list[Any]]) -> None:
    """dvc's listing: one group per state, then how many files (not directories) each."""
    counts = {}
    for state in _STATES:
        entries = shown.get(state) or []
        counts[state] = sum(not _path_text(e).endswith("/") for e in entries)
        if not entries:
            continue
        click.secho(f"{state.capitalize()}:", fg=_COLORS.get(state, "yellow"))
        for entry in entries:
            digest = f"{_digest(entry['hash'])}  " if entry.get("hash") else ""
            click.echo(f"    {digest}{_path_text(entry)}")
        click.echo()
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    if summary:
        click.echo(f"files summary: {summary}")


def _print_markdown(shown: dict[str, list[Any]], show_hash: bool) -> None:
    from ..compare.render import markdown_table

    headers = ["Status", "Hash", "Path"] if show_hash else ["Status", "Path"]
    rows = [
        [state, _digest(e.get("hash")), _path_text(e)] if show_hash else [state, _path_text(e)]
        for state in _STATES
        for e in shown.get(state) or []
    ]
    if rows:
        click.echo(markdown_table(headers, rows))
        return
    # dvc prints the header of an empty table too
    click.echo("|" + "|".join(f" {h.ljust(len(h) + 2)} " for h in headers) + "|")
    click.echo("|" + "|".join("-" * (len(h) + 4) for h in headers) + "|\n")
