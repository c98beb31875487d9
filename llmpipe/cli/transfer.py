"""`llmpipe push`, `pull`, `fetch`: move the cache objects the project uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .render import CliProgress, emit_json, quiet_option, verbose_option
from .session import run_verb


def _transfer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("targets", nargs=-1),
        click.option("-r", "--remote", help="Remote to use (default: the default remote)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), help="Parallel transfers."),
        click.option("--run-cache", is_flag=True, help="Transfer the run-cache (runs/) too."),
        click.option(
            "-A", "--all-branches", is_flag=True, help="Objects used by every local branch."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        quiet_option,
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _request(targets, remote, jobs, run_cache, all_branches):  # noqa: ANN001, ANN202
    from ..remote.ops import TransferRequest

    return TransferRequest(tuple(targets), remote, jobs, run_cache, all_branches)


def report_transfer(verb: str, result: Any, as_json: bool, quiet: bool) -> None:
    if as_json:
        emit_json(
            {
                "transferred": len(result.transferred),
                "skipped": result.skipped,
                "failed": [{"oid": f.oid, "reason": f.reason} for f in result.failed],
            }
        )
    elif not quiet:
        count = len(result.transferred)
        if count:
            click.echo(f"{count} file{'s' if count != 1 else ''} {verb}")
        elif not result.failed:  # failures below are the news, not "up to date"
            click.echo("Everything is up to date.")
    for failure in result.failed:
        click.secho(f"ERROR: {failure.oid}: {failure.reason}", fg="red", err=True)
    if result.failed:
        from ..errors import RemoteError

        count = len(result.failed)
        raise RemoteError(
            f"{count} object{'s' if count != 1 else ''} could not be {verb} (listed above); "
            "the others were; fix the cause and run the command again"
        )


@click.command()
@_transfer_options
def push(targets, remote, jobs, run_cache, all_branches, as_json, quiet, verbose) -> None:  # noqa: ANN001
    """Upload the cached outputs of TARGETS (default: all) that the remote lacks."""
    from ..ops.transfer import push as do_push

    request = _request(targets, remote, jobs, run_cache, all_branches)
    report_transfer("pushed", run_verb(do_push, request, CliProgress(not quiet)), as_json, quiet)


@click.command()
@_transfer_options
def fetch(targets, remote, jobs, run_cache, all_branches, as_json, quiet, verbose) -> None:  # noqa: ANN001
    """Download the objects of TARGETS (default: all) missing from the cache."""
    from ..ops.transfer import fetch as do_fetch

    request = _request(targets, remote, jobs, run_cache, all_branches)
    report_transfer("fetched", run_verb(do_fetch, request, CliProgress(not quiet)), as_json, quiet)


@click.command()
@_transfer_options
@click.option(
    "-f", "--force", is_flag=True, help="Discard workspace changes that are not in the cache."
)
def pull(targets, remote, jobs, run_cache, all_branches, as_json, quiet, verbose, force) -> None:  # noqa: ANN001
    """fetch, then check the outputs out into the workspace."""
    from ..ops.transfer import pull as do_pull

    request = _request(targets, remote, jobs, run_cache, all_branches)
    result = run_verb(do_pull, request, CliProgress(not quiet), force=force)
    if not quiet and not as_json:
        for path in result.checkout.changed:
            click.echo(f"M\t{path}")
    report_transfer("fetched", result.fetched, as_json, quiet)


def print_cloud_status(entries: list[Any], as_json: bool) -> None:
    """Render `status -c` (called from cli/status.py)."""
    changed = [e for e in entries if e.state != "ok"]
    if as_json:
        emit_json({e.path: e.state for e in changed})
        return
    if not changed:
        remotes = sorted({e.remote for e in entries})
        names = ", ".join(f"'{r}'" for r in remotes) or "the remote"
        click.echo(f"Cache and remote {names} are in sync.")
        return
    for entry in changed:
        click.echo(f"\t{entry.state + ':':<20}{entry.path}")
