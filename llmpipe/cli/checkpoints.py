"""`llmpipe checkpoints list/show/restore STAGE`: a stage's checkpoints on its remote."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from .render import verbose_option


@click.group("checkpoints")
def checkpoints() -> None:
    """Checkpoints a stage streamed to the remote while it ran (docs/checkpoints.md)."""


LOCAL_HELP = (
    "Read the local lineage store (checkpoints pushed from here, or fetched), not the remote."
)


@checkpoints.command("list")
@click.argument("stage")
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@click.option("--local", is_flag=True, help=LOCAL_HELP)
@verbose_option
def list_command(stage: str, as_json: bool, local: bool, verbose: bool) -> None:
    """The pushed checkpoints of STAGE, oldest first: id, step, time, size, metrics."""
    from ..ops.checkpoints import checkpoint_catalog, local_checkpoints
    from .session import open_project

    with open_project() as project:
        if local:
            address, records = local_checkpoints(project, stage)
            runs, where = {}, "in the local lineage store"
        else:
            catalog = checkpoint_catalog(project, stage)
            address, records = catalog.stage, list(catalog.checkpoints)
            runs, where = {r.run_id: r for r in catalog.runs}, f"on remote '{catalog.remote}'"
    if as_json:
        rows = [_with_run(asdict(r), runs.get(r.run_id)) for r in records]
        click.echo(json.dumps(rows, indent=2))
        return
    if not records:
        click.echo(f"No checkpoints of stage '{address}' {where}.")
        return
    click.echo(f"{'ID':<28} {'STEP':>7}  {'CREATED':<19}  {'SIZE':>9}  {'RUN':<10}  METRICS")
    for record in records:
        run = runs.get(record.run_id)
        click.echo(
            f"{record.id:<28} {_step(record.step):>7}  {record.created[:19]:<19}  "
            f"{_size(record.size):>9}  {run.state if run else '?':<10}  "
            f"{_metrics(record.metrics)}"
        )


@checkpoints.command("show")
@click.argument("stage")
@click.argument("checkpoint")
@click.option("--local", is_flag=True, help=LOCAL_HELP)
@verbose_option
def show(stage: str, checkpoint: str, local: bool, verbose: bool) -> None:
    """One checkpoint's lineage record (JSON), with its run.

    A checkpoint no longer on the remote (retention let it go) is shown from the
    local lineage store, with "on_remote": false.
    """
    from ..ops.checkpoints import show_checkpoint
    from .session import open_project

    with open_project() as project:
        record, run, on_remote = show_checkpoint(project, stage, checkpoint, local)
    data = {**_with_run(asdict(record), run), "on_remote": on_remote}
    click.echo(json.dumps(data, indent=2))


@checkpoints.command("restore")
@click.argument("stage")
@click.argument("checkpoint")
@verbose_option
def restore(stage: str, checkpoint: str, verbose: bool) -> None:
    """Make STAGE's checkpoint folder hold CHECKPOINT exactly (fetched and verified).

    What the folder held before is replaced. `llmpipe repro STAGE` then resumes from it
    only if the stage's inputs changed; `repro STAGE --from-checkpoint ID` always does.
    """
    from ..ops.checkpoints import restore_checkpoint
    from .session import invocation, open_project

    with open_project() as project:
        record = restore_checkpoint(project, stage, checkpoint, invocation=invocation())
    click.echo(f"Restored checkpoint {record.id} (step {_step(record.step)}) of '{record.stage}'.")


def _with_run(data: dict[str, Any], run: Any) -> dict[str, Any]:
    data["run"] = asdict(run) if run is not None else None
    return data


def _step(step: int | None) -> str:
    return "-" if step is None else str(step)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _metrics(metrics: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(metrics.items()))
