"""`llmpipe push`, `pull`, `fetch`: move the cache objects the project uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .render import CliProgress, emit_json, files_summary, quiet_option, verbose_option
from .session import run_verb

UP_TO_DATE = "Everything is up to date."


def _transfer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("targets", nargs=-1),
        click.option("-r", "--remote", help="Remote to use (default: the default remote)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), help="Parallel transfers."),
        click.option("--run-cache", is_flag=True, help="Transfer the run-cache (runs/) too."),
        click.option("-a", "--all-branches", is_flag=True, help="Also every local branch's."),
        click.option("-T", "--all-tags", is_flag=True, help="Also every tag's."),
        click.option("-A", "--all-commits", is_flag=True, help="Also every commit's."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        quiet_option,
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _request(targets, remote, jobs, run_cache, revisions):  # noqa: ANN001, ANN202
    from ..remote.ops import TransferRequest

    all_branches, all_tags, all_commits = revisions
    return TransferRequest(
        tuple(targets),
        remote,
        jobs,
        run_cache,
        all_branches,
        all_tags=all_tags,
        all_commits=all_commits,
    )


def report_transfer(verb: str, result: Any, as_json: bool, quiet: bool) -> None:
    if as_json:
        emit_json(
            {
                "transferred": len(result.transferred),
                "skipped": result.skipped,
                "failed": [{"oid": f.oid, "reason": f.reason} for f in result.failed],
                "missing": [{"oid": m.oid, "path": m.name} for m in result.missing],
            }
        )
    elif not quiet:
        count = len(result.transferred)
        if count:
            click.echo(f"{count} file{'s' if count != 1 else ''} {verb}")
        elif not result.failed:  # failures below are the news, not "up to date"
            click.echo(UP_TO_DATE)
    _warn_missing(result.missing)
    for failure in result.failed:
        click.secho(f"ERROR: {failure.oid}: {failure.reason}", fg="red", err=True)
    if result.failed:
        from ..errors import RemoteError

        count = len(result.failed)
        raise RemoteError(
            f"{count} object{'s' if count != 1 else ''} could not be {verb} (listed above); "
            "the others were; fix the cause and run the command again"
        )


def _warn_missing(missing: Any) -> None:
    """dvc's warning for objects in neither the cache nor the remote, naming the files."""
    if not missing:
        return
    click.secho(
        "WARNING: Some of the cache files do not exist neither locally nor on remote."
        " Missing cache files:",
        fg="yellow",
        err=True,
    )
    for item in missing:
        click.secho(f"md5: {item.oid} ({item.name})", fg="yellow", err=True)


@click.command()
@_transfer_options
def push(
    targets, remote, jobs, run_cache, all_branches, all_tags, all_commits, as_json, quiet, verbose
) -> None:  # noqa: ANN001, E501
    """Upload the cached outputs of TARGETS (default: all) that the remote lacks."""
    from ..ops.transfer import push as do_push

    revisions = (all_branches, all_tags, all_commits)
    request = _request(targets, remote, jobs, run_cache, revisions)
    report_transfer("pushed", run_verb(do_push, request, CliProgress(not quiet)), as_json, quiet)


@click.command()
@_transfer_options
def fetch(
    targets, remote, jobs, run_cache, all_branches, all_tags, all_commits, as_json, quiet, verbose
) -> None:  # noqa: ANN001, E501
    """Download the objects of TARGETS (default: all) missing from the cache."""
    from ..ops.transfer import fetch as do_fetch

    revisions = (all_branches, all_tags, all_commits)
    request = _request(targets, remote, jobs, run_cache, revisions)
    report_transfer("fetched", run_verb(do_fetch, request, CliProgress(not quiet)), as_json, quiet)


@click.command()
@_transfer_options
@click.option(
    "-f", "--force", is_flag=True, help="Discard workspace changes that are not in the cache."
)
def pull(
    targets,
    remote,
    jobs,
    run_cache,
    all_branches,
    all_tags,
    all_commits,
    as_json,
    quiet,
    verbose,
    force,
) -> None:  # noqa: ANN001, E501
    """fetch, then check the outputs out into the workspace."""
    from ..ops.transfer import pull as do_pull
    from .data import print_checkout_changes

    revisions = (all_branches, all_tags, all_commits)
    request = _request(targets, remote, jobs, run_cache, revisions)
    result = run_verb(do_pull, request, CliProgress(not quiet), force=force)
    if not quiet and not as_json:
        print_checkout_changes(result.checkout)
        summary = pull_summary(len(result.fetched.transferred), result.checkout.files)
        troubles = result.fetched.failed or result.checkout.missing
        if not (troubles and summary == UP_TO_DATE):  # failures are the news then
            click.echo(summary)
    report_transfer("fetched", result.fetched, as_json, quiet=True)


def pull_summary(fetched: int, files: tuple[int, int, int]) -> str:
    """dvc's line: "5 files fetched and 4 files added" (or "Everything is up to date.")."""
    counts = zip(("fetched", "modified", "added", "deleted"), (fetched, *files), strict=True)
    return files_summary(counts) or UP_TO_DATE


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
