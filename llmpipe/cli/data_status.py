"""`llmpipe data status`: tracked data changed since the last commit and since recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, quiet_stdout, verbose_option

if TYPE_CHECKING:
    from ..ops.data_status import DataStatus
    from ..ops.diff import DataDiff

_LABELS = {
    "not_in_remote": "Not in remote",
    "not_in_cache": "Not in cache",
    "committed": "DVC committed changes",
    "uncommitted": "DVC uncommitted changes",
    "untracked": "Untracked files",
    "unchanged": "DVC unchanged files",
}
_HINTS = {
    "not_in_remote": ('use "llmpipe push <file>..." to upload files',),
    "not_in_cache": ('use "llmpipe fetch <file>..." to download files',),
    "committed": ("git commit the corresponding dvc files to update the repo",),
    "uncommitted": (
        'use "llmpipe commit <file>..." to track changes',
        'use "llmpipe checkout <file>..." to discard changes',
    ),
    "untracked": (
        'use "git add <file> ..." or "llmpipe add <file>..." to commit to git or to dvc',
    ),
}
_COLORS = {
    "not_in_remote": "red",
    "not_in_cache": "red",
    "committed": "green",
    "uncommitted": "yellow",
    "untracked": "cyan",
}


@click.group()
def data() -> None:
    """Commands about tracked data."""


@data.command()
@click.argument("targets", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--granular", is_flag=True, help="List the files inside tracked directories too.")
@click.option("--unchanged", is_flag=True, help="List unchanged tracked files too.")
@click.option(
    "--untracked-files",
    type=click.Choice(["no", "all"]),
    default="no",
    is_flag=False,
    flag_value="all",
    help="List files git does not track.",
)
@click.option("--not-in-remote", is_flag=True, help="List tracked files the remote lacks.")
@click.option("-r", "--remote", help="The remote to check (with --not-in-remote).")
@click.option("--no-remote-refresh", is_flag=True, hidden=True, help="Accepted for dvc's sake.")
@verbose_option
@quiet_stdout
def status(
    targets: tuple[str, ...],
    as_json: bool,
    granular: bool,
    unchanged: bool,
    untracked_files: str,
    not_in_remote: bool,
    remote: str | None,
    no_remote_refresh: bool,
    verbose: bool,
) -> None:
    """Show changes between the last git commit, the dvc files and the workspace."""
    from ..ops.data_status import data_status
    from .session import open_project

    untracked = untracked_files == "all"
    with open_project() as project:
        found = data_status(project, list(targets), granular=granular, untracked=untracked,
                            remote=remote, in_remote=not_in_remote)  # fmt: skip
    shown = _as_dvc(found, unchanged, untracked)
    if as_json:
        emit_json(shown, like_dvc=True)
    else:
        _print(shown, found)


def _as_dvc(found: DataStatus, unchanged: bool, untracked: bool) -> dict[str, Any]:
    """dvc's JSON: only the non-empty groups, in dvc's order."""
    shown: dict[str, Any] = {
        "not_in_cache": found.not_in_cache,
        "not_in_remote": found.not_in_remote,
        "committed": _changes(found.committed),
        "uncommitted": _changes(found.uncommitted),
        "untracked": found.untracked if untracked else [],
        "unchanged": found.unchanged if unchanged else [],
    }
    return {key: value for key, value in shown.items() if value}


def _changes(diff: DataDiff) -> dict[str, Any]:
    groups: dict[str, Any] = {
        "modified": [c.path for c in diff.modified],
        "added": [c.path for c in diff.added],
        "deleted": [c.path for c in diff.deleted],
        "renamed": [{"old": c.path, "new": c.new_path} for c in diff.renamed],
        "unknown": sorted(diff.unknown),
    }
    return {key: value for key, value in groups.items() if value}


def _print(shown: dict[str, Any], found: DataStatus) -> None:
    if not shown:
        click.echo("No changes in an empty git repo." if found.empty_git else "No changes.")
    for index, (group, entries) in enumerate(shown.items()):
        if index:
            click.echo()
        click.echo(f"{_LABELS[group]}:")
        for hint in _HINTS.get(group, ()):
            click.echo(f"  ({hint})")
        color = _COLORS.get(group)
        for item in _items(entries):
            click.secho(" " * 8 + item, fg=color)
    if found.git_dirty:
        other = "other " if shown else ""
        message = f'there are {other}changes not tracked by dvc, use "git status" to see'
        click.secho(f"({message})", fg="blue")


def _items(entries: Any) -> list[str]:
    if not isinstance(entries, dict):
        return list(entries)
    return [
        f"{state}: " + (" -> ".join(c.values()) if isinstance(c, dict) else c)
        for state, changes in entries.items()
        for c in changes
    ]
