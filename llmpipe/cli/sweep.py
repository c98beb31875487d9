"""`llmpipe sweep`: hyperparameter sweeps with Hydra multirun; `show` and `apply` results.

`llmpipe sweep OVERRIDE…` runs a sweep (the default subcommand); `llmpipe sweep
show [ID]` prints a recorded one; `llmpipe sweep apply ID JOB` writes a job's
overrides into the config so that a plain `repro` reproduces it.
"""

from __future__ import annotations

import sys

import click

from .render import emit_json, quiet_option, verbose_option
from .repro import executor_options


class _DefaultRunGroup(click.Group):
    """A group whose first argument, unless it names a subcommand, belongs to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultRunGroup)
def sweep() -> None:
    """Sweep hyperparameters: llmpipe sweep train.lr=1e-3,3e-4 model=tiny,small -j 2.

    Subcommands: run (the default), show [ID], apply ID JOB.
    """


_sort_options = [
    click.option("--sort-by", metavar="METRIC", help="Order jobs by this metric."),
    click.option("--desc", "descending", is_flag=True, help="Sort descending (largest first)."),
    click.option(
        "-m", "--metric", "metrics", multiple=True, help="Show only these metrics (repeatable)."
    ),
    click.option("--json", "as_json", is_flag=True, help="Print the sweep record as JSON."),
]


def _with_sort_options(func):  # noqa: ANN001, ANN201
    for option in reversed(_sort_options):
        func = option(func)
    return func


@sweep.command("run")
@click.argument("overrides", nargs=-1, required=True)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=1, help="Jobs at once (joblib launcher)."
)
@click.option(
    "--launcher",
    metavar="NAME",
    help="Hydra launcher: basic, joblib, submitit_slurm, ray (default: basic, joblib with -j>1).",
)
@click.option("-t", "--target", "targets", multiple=True, help="Stages to reproduce per job.")
@click.option("--fail-fast", is_flag=True, help="Stop launching jobs after the first failure.")
@click.option("--keep-workspaces", is_flag=True, help="Keep each job's workspace for inspection.")
@click.option(
    "--no-share", is_flag=True, help="Do not run the stages all jobs share once up front."
)
@executor_options("Where each job's stages run")
@_with_sort_options
@quiet_option
@verbose_option
def run(
    overrides: tuple[str, ...],
    jobs: int,
    launcher: str | None,
    targets: tuple[str, ...],
    fail_fast: bool,
    keep_workspaces: bool,
    no_share: bool,
    executor: str | None,
    retries: int,
    sort_by: str | None,
    descending: bool,
    metrics: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run the pipeline once per combination of OVERRIDES (Hydra multirun syntax).

    OVERRIDES: key=a,b  key=range(0,4)  key=choice(a,b)  group=glob(*)  group=x,y;
    hydra/launcher=… and hydra.launcher.…=… configure the launcher.
    """
    from ..ops.sweep import SweepRequest, run_sweep
    from .session import invocation, open_project

    with open_project() as project:
        request = SweepRequest(
            overrides=overrides,
            jobs=jobs,
            launcher=launcher,
            targets=targets,
            fail_fast=fail_fast,
            keep_workspaces=keep_workspaces,
            share_upstream=not no_share,
            executor=executor or project.config.get("llmpipe", "executor") or "local",
            retries=retries,
        )
        progress = None if quiet or as_json else _print_progress
        record = run_sweep(project, request, progress, invocation=invocation())
    _show(record, sort_by, descending, metrics, as_json, quiet)
    if any(job.status != "succeeded" for job in record.jobs):
        sys.exit(1)


def _print_progress(progress) -> None:  # noqa: ANN001
    click.echo(
        f"jobs: {progress.done}/{progress.total} done, {progress.running} running, "
        f"{progress.failed} failed",
        err=True,
    )


@sweep.command("show")
@click.argument("sweep_id", required=False)
@click.option("--list", "list_all", is_flag=True, help="List the recorded sweeps.")
@_with_sort_options
@verbose_option
def show(
    sweep_id: str | None,
    list_all: bool,
    sort_by: str | None,
    descending: bool,
    metrics: tuple[str, ...],
    as_json: bool,
    verbose: bool,
) -> None:
    """Show a recorded sweep (default: the latest)."""
    from ..hydra.results import list_sweeps, load_record
    from .session import open_project

    with open_project() as project:
        if list_all:
            for found in list_sweeps(project.llmpipe_dir):
                click.echo(found)
            return
        record = load_record(project.llmpipe_dir, sweep_id)
    _show(record, sort_by, descending, metrics, as_json, quiet=False)


@sweep.command("apply")
@click.argument("sweep_id")
@click.argument("job", type=int)
@verbose_option
def apply(sweep_id: str, job: int, verbose: bool) -> None:
    """Write job JOB's overrides of sweep SWEEP_ID into the config, for a plain `repro`."""
    from ..ops.sweep import apply_job
    from .session import open_project

    with open_project() as project:
        changed = apply_job(project, sweep_id, job)
    for path in changed:
        click.echo(f"Updated {path}")
    click.echo("Run 'llmpipe repro' to reproduce this job in the workspace.")


def _show(record, sort_by, descending, metrics, as_json: bool, quiet: bool) -> None:  # noqa: ANN001
    from ..hydra.results import table

    header, rows = table(record, sort_by, descending, metrics)
    if as_json:
        emit_json(record.to_dict())
        return
    if quiet:
        return
    _print_table(header, rows)
    counts = record.counts()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    shared = f"; shared stages run once: {', '.join(record.shared_stages)}"
    click.echo(f"sweep {record.id}: {summary}{shared if record.shared_stages else ''}")
    for job in record.jobs:
        if job.status == "failed" and job.error:
            click.secho(f"job {job.job} failed: {job.error.splitlines()[0]}", err=True, fg="red")


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
