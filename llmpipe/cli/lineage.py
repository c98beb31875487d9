"""`llmpipe lineage PATH` and `llmpipe log`: read the lineage store and render it.

Plain text (coloured by click only on a terminal) keeps these commands fast;
`--json` prints machine-readable records with ISO 8601 timestamps.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import click

from ..errors import TargetError
from ..lineage.record import ArtifactRef, RunRecord
from .render import verbose_option

STATUS_COLOURS = {"ran": "green", "restored": "cyan", "failed": "red"}
SHORT_ID = 8
SHORT_COMMIT = 7


@click.command("lineage")
@click.argument("path")
@click.option("--rev", help="The content PATH has at this git revision (default: the workspace).")
@click.option(
    "--hash", "content_hash", help="The content with this hash (or unique prefix) instead."
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@verbose_option
def lineage(
    path: str, rev: str | None, content_hash: str | None, as_json: bool, verbose: bool
) -> None:
    """Show the runs that produced the content of PATH, back to the raw inputs they read.

    The content is PATH's in the workspace, or at --rev REV, or the one --hash names.
    """
    from ..ops.lineage import lineage as trace_content
    from .session import open_project

    with open_project() as project:
        target = repo_relative(project.root, path)
        answer = trace_content(project, target, rev=rev, hash=content_hash)
    _warn(list(answer.warnings))
    result = answer.trace
    if as_json:
        payload = {
            "path": target,
            "output": answer.output,
            "hash": answer.hash,
            "source": answer.source,
            "runs": [run.to_dict() for run in result.runs],
            "raw_inputs": [_artifact_dict(ref) for ref in result.raw_inputs],
            "checkpoints": list(answer.checkpoints),
        }
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    click.echo(render_trace(target, result.runs, result.raw_inputs, answer.hash, answer.source))
    if answer.checkpoints:
        click.echo("\n".join(["", *_checkpoint_lines(answer.checkpoints)]))


def _checkpoint_lines(records: tuple[dict[str, Any], ...]) -> list[str]:
    lines = [click.style("checkpoints", bold=True) + " (oldest first, each the parent of the next)"]
    for record in records:
        metrics = " ".join(f"{k}={v}" for k, v in sorted(record["metrics"].items()))
        lines.append(
            f"  {record['id']}  step {record['step']}  {record['created'][:19]}  "
            f"run {record['run_id'][:SHORT_ID]}  remote {record['remote']}  {metrics}".rstrip()
        )
    return lines


@click.command("log")
@click.option("--stage", "stage", default=None, help="Only runs of this stage (or foreach group).")
@click.option(
    "-n",
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="At most N runs.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@verbose_option
def log(stage: str | None, limit: int, as_json: bool, verbose: bool) -> None:
    """List recent stage runs, newest first."""
    from ..project import Project

    repo = Project.discover()
    runs = repo.lineage.read(stage=stage, limit=limit)
    _warn(repo.lineage.warnings)
    if as_json:
        click.echo(json.dumps([run.to_dict() for run in runs], indent=2, default=str))
    elif not runs:
        scope = f" of stage '{stage}'" if stage else ""
        click.echo(f"No runs{scope} recorded yet: 'llmpipe repro' records every stage run.")
    else:
        click.echo(render_log(runs))


def repo_relative(root: str, path: str) -> str:
    """`path` (relative to the current directory) as a repository-relative posix path."""
    relative = os.path.relpath(os.path.abspath(path), root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise TargetError(f"'{path}' is outside the project at '{root}'")
    return relative.replace(os.sep, "/")


def render_trace(
    target: str,
    runs: list[RunRecord],
    raw_inputs: list[ArtifactRef],
    content: str | None = None,
    source: str = "workspace",
) -> str:
    """The chain as text: the content traced, raw inputs, then each run upstream first."""
    noun = "run" if len(runs) == 1 else "runs"
    what = f"; content {ArtifactRef(target, content).short_hash} ({source})" if content else ""
    lines = [
        click.style(f"lineage of {target}", bold=True)
        + f" ({len(runs)} {noun}, upstream first{what})"
    ]
    if raw_inputs:
        lines += ["", click.style("raw inputs", bold=True)]
        lines += [f"  {ref.path}  {ref.short_hash}" for ref in raw_inputs]
    for run in runs:
        lines += ["", *_run_lines(run)]
    return "\n".join(lines)


def _run_lines(run: RunRecord) -> list[str]:
    header = (
        f"{click.style(run.stage, bold=True)}  {_status(run)}  {format_time(run.started_at)}"
        f"  {format_duration(run.duration_s)}  commit {format_commit(run)}"
    )
    fields = [
        ("cmd", run.cmd),
        ("deps", ", ".join(_artifact_text(ref) for ref in run.deps)),
        ("params", format_params(run.params)),
        ("outs", ", ".join(_artifact_text(ref) for ref in run.outs)),
        ("metrics", format_params(run.metrics)),
        ("overrides", " ".join(run.overrides)),
        ("ran on", _where(run)),
        (
            "run",
            f"{run.run_id[:SHORT_ID]} (batch {run.batch_id[:SHORT_ID]}, {run.user}@{run.host})",
        ),
    ]
    return [header] + [f"  {name:<9} {value}" for name, value in fields if value]


def _where(run: RunRecord) -> str:
    """`ray worker-a (job 3f…)` for a run an executor sent elsewhere; '' when local."""
    if run.executor in (None, "local"):
        return ""
    job = f" (job {run.job_id})" if run.job_id else ""
    return f"{run.executor} {run.host}{job}"


def render_log(runs: list[RunRecord]) -> str:
    """A table of runs: time, stage, status, duration, commit, short run id (and where
    each ran, when an executor ran any)."""
    header = ("TIME", "STAGE", "STATUS", "DURATION", "COMMIT", "RUN")
    rows = [
        (
            format_time(run.started_at),
            run.stage,
            run.status,
            format_duration(run.duration_s),
            format_commit(run),
            run.run_id[:SHORT_ID],
        )
        for run in runs
    ]
    if any(run.executor not in (None, "local") for run in runs):
        # Where each ran, only once some run went to an executor (local logs stay as they were).
        header = (*header, "WHERE")
        rows = [(*row, _where(run) or "local") for row, run in zip(rows, runs, strict=True)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(header, widths)).rstrip()]
    for row in rows:
        cells = _pad(row, widths)
        # Colour after padding so escape codes do not upset the column widths.
        cells[2] = click.style(cells[2], fg=STATUS_COLOURS.get(row[2]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _pad(cells: tuple[str, ...], widths: list[int]) -> list[str]:
    return [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]


def format_time(moment: datetime) -> str:
    """A timestamp in the local time zone, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_commit(run: RunRecord) -> str:
    if not run.git_commit:
        return "-"
    return run.git_commit[:SHORT_COMMIT] + ("+dirty" if run.git_dirty else "")


def format_params(params: dict[str, Any]) -> str:
    """`file: key=value, ...` per file; nested keys dotted, values as compact JSON."""
    parts = []
    for file, values in sorted(params.items()):
        flat = _flatten(values, "") if isinstance(values, dict) else {"": values}
        pairs = ", ".join(
            f"{key}={json.dumps(value, default=str)}" if key else json.dumps(value, default=str)
            for key, value in flat.items()
        )
        parts.append(f"{file}: {pairs}")
    return "; ".join(parts)


def _flatten(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _artifact_text(ref: ArtifactRef) -> str:
    files = f", {ref.nfiles} files" if ref.nfiles is not None else ""
    return f"{ref.path} ({ref.short_hash}{files})"


def _artifact_dict(ref: ArtifactRef) -> dict[str, Any]:
    return {"path": ref.path, "hash": ref.hash, "size": ref.size, "nfiles": ref.nfiles}


def _status(run: RunRecord) -> str:
    label = (
        "restored (run-cache)" if run.from_run_cache and run.status == "restored" else run.status
    )
    return click.style(label, fg=STATUS_COLOURS.get(run.status))


def _warn(messages: list[str]) -> None:
    for message in messages:
        click.secho(f"WARNING: {message}", fg="yellow", err=True)
