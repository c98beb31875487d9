"""Commands that change what dvc.yaml, dvc.lock and `.dvc` files record without running:
`commit`, `remove`, `move`, `freeze`, `unfreeze`, `stage add`, `unprotect`."""

from __future__ import annotations

import sys

import click

from .render import quiet_option, verbose_option
from .session import run_verb


def _confirm(message: str) -> bool:
    """Ask on a terminal; off a terminal the answer is no, as dvc's prompt gives."""
    if not sys.stdin.isatty():
        return False
    return click.confirm(message, err=True)


@click.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Commit changed stages without asking.")
@click.option("-d", "--with-deps", is_flag=True, help="Commit the targets' upstream stages too.")
@quiet_option
@verbose_option
def commit(
    targets: tuple[str, ...], force: bool, with_deps: bool, quiet: bool, verbose: bool
) -> None:
    """Record outputs as they are in the workspace (dvc.lock, .dvc files), without running."""
    from ..ops.commit import commit as commit_outputs

    committed = run_verb(commit_outputs, targets, force=force, with_deps=with_deps,
                         confirm=_confirm)  # fmt: skip
    if quiet:
        return
    for lockfile in dict.fromkeys(c.lockfile for c in committed if c.lockfile.endswith("lock")):
        click.echo(f"Updating lock file '{lockfile}'")
