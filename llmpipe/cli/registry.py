"""`llmpipe registry`: model versions, aliases, gated promotion, rollback, history, verify."""

from __future__ import annotations

import sys
from typing import Any

import click

from .render import emit_json, verbose_option
from .session import run_verb


def writer():  # noqa: ANN201
    """Who signs registry events: the current key (a prompt unlocks an encrypted one)."""
    from ..registry.ops import Writer
    from .session import prompt_passphrase

    return Writer.current(prompt_passphrase)


def _state():  # noqa: ANN202
    from ..ops.registry import registry_state

    return run_verb(registry_state)


def split_ref(text: str) -> tuple[str, str | None]:
    """`NAME@REF` -> (NAME, REF); `NAME` -> (NAME, None)."""
    name, _, ref = text.partition("@")
    return name, ref or None


@click.group()
def registry() -> None:
    """Model registry: versions, aliases (staging, production), promotion, rollback."""


@registry.command()
@click.argument("name")
@click.argument("path")
@click.option("--version", "version", help="Semantic version (default: the next one).")
@click.option(
    "--bump",
    type=click.Choice(["patch", "minor", "major"]),
    default="patch",
    show_default=True,
    help="Which part to increment when --version is not given.",
)
@click.option("-m", "--message", help="What this version is.")
@click.option("--metrics", "metrics_file", help="Metrics file to record (default: the pipeline's).")
@verbose_option
def register(
    name: str,
    path: str,
    version: str | None,
    bump: str,
    message: str | None,
    metrics_file: str | None,
    verbose: bool,
) -> None:
    """Register the cached output PATH as a new version of model NAME."""
    from ..ops.registry import register as do_register

    event = run_verb(do_register, writer(), name, path, version, bump, message, metrics_file)
    data = event["data"]
    click.echo(f"Registered {name} {data['version']} ({data['path']}, {data['digest'][:19]}…)")
    if data.get("remote"):
        click.echo(f"  on remote '{data['remote']}'")
    metrics = data.get("metrics") or {}
    if metrics:
        click.echo("  metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in sorted(metrics.items())))


@registry.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def list_models(as_json: bool, verbose: bool) -> None:
    """Every model with its latest version and aliases."""
    state = _state()
    rows = []
    for name, model in sorted(state.models.items()):
        latest = list(model.versions.values())[-1] if model.versions else None
        rows.append(
            {
                "model": name,
                "versions": len(model.versions),
                "latest": latest.version if latest else None,
                "aliases": dict(sorted(model.aliases.items())),
            }
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("The registry is empty: add a model with 'llmpipe registry register'.")
    for row in rows:
        aliases = ", ".join(f"{a}={v}" for a, v in row["aliases"].items()) or "no aliases"
        click.echo(
            f"{row['model']}  {row['versions']} version(s), latest {row['latest']}  [{aliases}]"
        )


@registry.command()
@click.argument("ref")
@click.option(
    "--metrics", "show_metrics", is_flag=True, help="Metrics of every version and monitoring check."
)
@click.option("--plot", "plot_file", help="Also write an HTML plot of each metric to this file.")
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def show(ref: str, show_metrics: bool, plot_file: str | None, as_json: bool, verbose: bool) -> None:
    """A version (NAME, NAME@VERSION or NAME@ALIAS): hash, digest, lineage, metrics."""
    name, which = split_ref(ref)
    model = _state().model(name)
    if plot_file:
        _write_plot(model, plot_file)
    if show_metrics:
        _show_metrics(model, as_json)
        return
    version = model.resolve(which)
    if as_json:
        emit_json(_version_json(model, version))
        return
    _print_version(model, version)


def _version_json(model: Any, version: Any) -> dict[str, Any]:
    return {
        "model": model.name,
        "version": version.version,
        "aliases": model.aliases_of(version.version),
        "deprecated": version.deprecated,
        "registered": version.time,
        "actor": version.actor,
        "actor_name": version.actor_name,
        "actor_member": version.actor_member,
        **version.data,
    }


def _print_version(model: Any, version: Any) -> None:
    from ..registry.card import registrant

    data = version.data
    lineage = data.get("lineage") or {}
    aliases = ", ".join(model.aliases_of(version.version)) or "-"
    click.echo(f"{model.name} {version.version}" + ("  (DEPRECATED)" if version.deprecated else ""))
    click.echo(f"  aliases:    {aliases}")
    click.echo(f"  path:       {data.get('path')}  ({(data.get('hash') or {}).get('md5')})")
    click.echo(f"  digest:     {version.digest}")
    click.echo(f"  registered: {version.time} by {registrant(version)} ({version.actor})")
    if data.get("message"):
        click.echo(f"  message:    {data['message']}")
    dirty = "+dirty" if lineage.get("git_dirty") else ""
    click.echo(
        f"  run:        {lineage.get('run_id')} (stage {lineage.get('stage')}, "
        f"commit {str(lineage.get('git_commit'))[:12]}{dirty})"
    )
    for dep in lineage.get("deps") or []:
        click.echo(f"  input:      {dep['path']}  {dep['hash']}")
    for key, value in sorted(version.metrics.items()):
        click.echo(f"  metric:     {key} = {value:.6g}")


def _show_metrics(model: Any, as_json: bool) -> None:
    rows = []
    for event in model.events:
        data = event.get("data") or {}
        if event.get("type") in ("register", "monitor"):
            kind = "registered" if event["type"] == "register" else "monitored"
            rows.append(
                {
                    "seq": event["seq"],
                    "time": event["time"],
                    "kind": kind,
                    "version": data.get("version"),
                    "metrics": data.get("metrics") or {},
                }
            )
    if as_json:
        emit_json(rows)
        return
    from ..compare.render import text_table

    names = sorted({k for r in rows for k in r["metrics"]})
    table = [
        [str(r["seq"]), r["kind"], str(r["version"])] + [_fmt(r["metrics"].get(n)) for n in names]
        for r in rows
    ]
    click.echo(text_table(["event", "kind", "version", *names], table))


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"


def _write_plot(model: Any, path: str) -> None:
    from ..fsutil import atomic_write_text
    from ..registry.plot import render_html

    atomic_write_text(path, render_html(model))
    click.echo(f"Wrote {path}", err=True)


@registry.command()
@click.argument("name")
@click.option(
    "--actor", help="Only events by A: a policy member name, a key fingerprint, or a git name."
)
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def history(name: str, actor: str | None, as_json: bool, verbose: bool) -> None:
    """Every event of model NAME: registered, promoted/demoted, rolled back, deprecated, ..."""
    from ..project import find_root
    from ..registry.card import history_lines
    from ..security.identity import actor_query

    model = _state().model(name)
    events = model.events
    if actor:
        who = actor_query(find_root("."), actor)
        events = [e for e in events if who.matches(e)]
    if as_json:
        emit_json(events)
        return
    for line in history_lines(model, events):
        click.echo(line)


@registry.command()
@click.argument("name")
@click.argument("version")
@click.option("--to", "alias", required=True, help="The alias to point at VERSION.")
@click.option("--force", is_flag=True, help="Promote past failed gates (needs 'admin'; audited).")
@verbose_option
def promote(name: str, version: str, alias: str, force: bool, verbose: bool) -> None:
    """Point ALIAS of model NAME at VERSION, if the alias's gates (in the policy) pass."""
    from ..ops.registry import promote as do_promote

    result = run_verb(do_promote, writer(), name, version, alias, force)
    for check in result.checks:
        mark = "PASS" if check.passed else "FAIL"
        click.echo(f"  gate {mark}  {check.describe()}")
    if result.event is None:
        click.secho(
            f"ERROR: {name} {version} not promoted to '{alias}': "
            f"{sum(not c.passed for c in result.checks)} gate(s) failed "
            "(an admin may override with --force)",
            fg="red",
            err=True,
        )
        sys.exit(1)
    data = result.event["data"]
    was = f" (was {data['previous']})" if data.get("previous") else ""
    forced = " despite failed gates (--force, audited)" if data.get("forced") else ""
    click.echo(f"Promoted {name} {data['version']} to '{alias}'{was}{forced}.")


@registry.command()
@click.argument("name")
@click.option("--alias", required=True, help="The alias to move back.")
@verbose_option
def rollback(name: str, alias: str, verbose: bool) -> None:
    """Point ALIAS of NAME back at the version that held it before."""
    from ..ops.registry import rollback as do_rollback

    event = run_verb(do_rollback, writer(), name, alias)
    data = event["data"]
    click.echo(f"Rolled back '{alias}' of {name} from {data['from']} to {data['to']}.")


@registry.command()
@click.argument("name")
@click.argument("version")
@click.option("-m", "--message", help="Why.")
@verbose_option
def deprecate(name: str, version: str, message: str | None, verbose: bool) -> None:
    """Mark VERSION of NAME deprecated (no longer promoted or rolled back to)."""
    from ..ops.registry import deprecate as do_deprecate

    event = run_verb(do_deprecate, writer(), name, version, message)
    held = event["data"].get("aliases") or []
    note = f" (still held by {', '.join(held)}: promote another version)" if held else ""
    click.echo(f"Deprecated {name} {event['data']['version']}{note}.")


@registry.command()
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def verify(as_json: bool, verbose: bool) -> None:
    """Replay the log: hash chain, signatures, and each event's permission in the policy."""
    from ..ops.registry import verify as verify_registry

    report = run_verb(verify_registry)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "events": report.events,
                "location": report.location,
                "problems": report.problems,
                "warnings": report.warnings,
            }
        )
    else:
        for warning in report.warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)
        for problem in report.problems:
            click.secho(f"BAD: {problem}", fg="red", err=True)
        status = "OK" if report.ok else "FAILED"
        click.echo(f"registry {status}: {report.events} event(s) verified in {report.location}")
    if not report.ok:
        sys.exit(1)
