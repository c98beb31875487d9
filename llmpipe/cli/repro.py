"""`llmpipe repro`: bring stages up to date."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from .render import CliProgress, CliReporter, quiet_option, verbose_option

T = TypeVar("T")


def executor_options(what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """`--executor` and `--retries`, for `repro` and `sweep` alike."""
    executor = click.option(
        "--executor",
        type=click.Choice(["local", "ray", "slurm"]),
        default=None,
        help=f"{what} (default: llmpipe.executor in .llmpipe/config, else local);"
        " see docs/cluster.md.",
    )
    retries = click.option(
        "--retries",
        type=click.IntRange(min=0),
        default=0,
        help="Send a stage again this many times when its worker is lost.",
    )
    return lambda func: executor(retries(func))


@click.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Run the selected stages even if unchanged.")
@click.option("-s", "--single-item", is_flag=True, help="Only the targets, not their upstream.")
@click.option("--downstream", is_flag=True, help="The targets and every stage after them.")
@click.option(
    "--force-downstream", is_flag=True, help="Re-run everything downstream of a stage that ran."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Stages to run at once where the DAG allows (default 1).",
)
@click.option(
    "-P",
    "--all-pipelines",
    is_flag=True,
    help="Every pipeline of the project (default: the root dvc.yaml's, as in dvc).",
)
@click.option("--dry", is_flag=True, help="Say what would run and why; change nothing.")
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="After a failure, keep running stages that do not depend on it.",
)
@click.option("--no-run-cache", is_flag=True, help="Always execute; never restore from run-cache.")
@executor_options("Where stages run")
@click.option(
    "--no-checkout",
    is_flag=True,
    help="Leave the outputs of stages run by an executor or restored from run-cache in"
    " the cache (dvc.lock is written); 'llmpipe checkout' brings them.",
)
@click.option(
    "-S",
    "--set-param",
    "set_params",
    multiple=True,
    metavar="OVERRIDE",
    help="Hydra override for params.yaml ([file:]key=value, +key=v, ~key, group=option).",
)
@click.option(
    "--from-checkpoint",
    metavar="ID",
    help="Resume the one target stage from this pushed checkpoint (llmpipe checkpoints list).",
)
@quiet_option
@verbose_option
def repro(
    targets: tuple[str, ...],
    force: bool,
    single_item: bool,
    downstream: bool,
    force_downstream: bool,
    jobs: int | None,
    all_pipelines: bool,
    dry: bool,
    keep_going: bool,
    no_run_cache: bool,
    executor: str | None,
    retries: int,
    no_checkout: bool,
    set_params: tuple[str, ...],
    from_checkpoint: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Reproduce the pipeline: run exactly the stages whose inputs changed.

    TARGETS are stage names (train, train@lr1), dvc.yaml:stage or a dvc.yaml path;
    without them, the stages of the root dvc.yaml and their upstream.
    """
    from ..ops.repro import ReproRequest, reproduce
    from .session import invocation, open_project

    with open_project() as project:
        request = ReproRequest(
            targets=targets,
            force=force,
            single_item=single_item,
            downstream=downstream,
            force_downstream=force_downstream,
            jobs=jobs or project.config.jobs or 1,
            dry=dry,
            keep_going=keep_going,
            use_run_cache=not no_run_cache,
            overrides=set_params,
            all_pipelines=all_pipelines,
            executor=executor or project.config.get("llmpipe", "executor") or "local",
            retries=retries,
            no_checkout=no_checkout,
            from_checkpoint=from_checkpoint,
        )
        result = with_progress(quiet, lambda r, p: reproduce(project, request, r, p,
                                                             invocation=invocation()))  # fmt: skip
    summarize(result, quiet, dry)


def with_progress(quiet: bool, call: Callable[[CliReporter, CliProgress], T]) -> T:
    """`call(reporter, progress)` with the CLI's reporter and progress bars, closed after."""
    progress = CliProgress(enabled=not quiet)
    try:
        return call(CliReporter(quiet), progress)
    finally:
        progress.finish()


def summarize(result, quiet: bool, dry: bool) -> None:  # noqa: ANN001
    if result.params_changed:
        click.echo(_params_line(result.params_changed), err=quiet)
    failed = result.failed
    if failed:
        if result.not_run:
            click.secho(
                f"Not run because of the failure: {', '.join(result.not_run)}",
                err=True,
                fg="yellow",
            )
        sys.exit(1)
    if quiet:
        return
    acted = [o for o in result.outcomes if o.kind in ("ran", "restored", "would-run")]
    if not acted:
        click.echo("Data and pipelines are up to date.")
    elif not dry:
        ran = len(result.of_kind("ran"))
        restored = len(result.of_kind("restored"))
        click.echo(f"{ran} stage(s) ran, {restored} restored from run-cache.")


def _params_line(keys: tuple[str, ...]) -> str:
    """One line saying that params.yaml was rewritten before the run, and which keys."""
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return f"params.yaml rewritten (Hydra composition / -S overrides): {shown}"
