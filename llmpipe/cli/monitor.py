"""`llmpipe monitor NAME@ALIAS`: judge fresh metrics against registration and thresholds."""

from __future__ import annotations

import sys

import click

from .render import verbose_option


@click.command()
@click.argument("ref")
@click.option("--metrics", "metrics_file", help="A metrics file produced elsewhere (JSON/YAML).")
@click.option("--stage", help="Run this evaluation stage (forced) and read its metrics.")
@click.option(
    "--rollback-on-degradation",
    is_flag=True,
    help="Roll the alias back when a check fails (needs 'rollback').",
)
@verbose_option
def monitor(
    ref: str,
    metrics_file: str | None,
    stage: str | None,
    rollback_on_degradation: bool,
    verbose: bool,
) -> None:
    """Compare the version behind NAME@ALIAS with its registration; exit 1 on degradation."""
    from ..errors import RegistryError
    from ..ops.registry import monitor as do_monitor
    from .registry import split_ref, writer
    from .session import run_verb

    name, alias = split_ref(ref)
    if alias is None:
        raise RegistryError(f"name the alias to monitor: {name}@production")
    if metrics_file and stage:
        raise click.UsageError("give --metrics or --stage, not both")
    result = run_verb(
        do_monitor, writer(), name, alias, metrics_file, stage, rollback_on_degradation
    )
    _print(name, result)
    if result.degraded:
        sys.exit(1)


def _print(name: str, result) -> None:  # noqa: ANN001
    from ..compare.render import text_table

    click.echo(f"{name} {result.version} ({result.alias}):")
    rows = [[k, _fmt(reg), _fmt(now), _change(reg, now)] for k, reg, now in result.rows]
    click.echo(text_table(["metric", "registered", "now", "change"], rows))
    for check in result.checks:
        click.echo(f"  check {'PASS' if check.passed else 'FAIL'}  {check.describe()}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if not result.degraded:
        click.echo("No degradation.")
        return
    click.secho(
        f"DEGRADED: {sum(not c.passed for c in result.checks)} check(s) failed", fg="red", err=True
    )
    if result.rolled_back:
        data = result.rolled_back["data"]
        click.echo(f"Rolled back '{data['alias']}' of {name} from {data['from']} to {data['to']}.")
    elif result.rollback_refused:
        click.secho(f"Not rolled back: {result.rollback_refused}", fg="yellow", err=True)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _change(registered: float | None, now: float | None) -> str:
    if registered is None or now is None:
        return "-"
    diff = now - registered
    relative = f" ({diff / registered:+.1%})" if registered else ""
    return f"{diff:+.6g}{relative}"
