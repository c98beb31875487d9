"""`llmpipe status`: which stages changed, and why."""

from __future__ import annotations

import os

import click

from .render import emit_json, verbose_option


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-c", "--cloud", is_flag=True, help="Compare the cache with the remote instead.")
@click.option("-r", "--remote", help="Remote for --cloud (default: the default remote).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Parallel checks for --cloud.")
@verbose_option
def status(
    targets: tuple[str, ...],
    as_json: bool,
    cloud: bool,
    remote: str | None,
    jobs: int | None,
    verbose: bool,
) -> None:
    """Show stages that would run, with the reasons (changed deps, params, command, outs)."""
    from ..ops.status import status as compute_status
    from .session import open_project

    if cloud:
        from ..ops.transfer import cloud_status
        from .transfer import print_cloud_status

        with open_project() as project:
            print_cloud_status(cloud_status(project, remote, targets, jobs), as_json)
        return
    with open_project() as project:
        entries = compute_status(project, targets)
    changed = [e for e in entries if e.reasons]
    if as_json:
        from ..run.dvcform import dvc_status

        emit_json(dvc_status(changed, project.root, os.getcwd()), like_dvc=True)
        return
    if not changed:
        click.echo("Data and pipelines are up to date.")
        return
    for entry in changed:
        click.secho(f"{entry.address}:", bold=True)
        for reason in entry.reasons:
            click.echo(f"\t{reason}")
