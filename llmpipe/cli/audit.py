"""`llmpipe audit`: read and verify the audit trail (records are written by `ops.audit`)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import click

from .render import emit_json, verbose_option

if TYPE_CHECKING:
    from ..security.identity import ActorQuery


@click.group()
def audit() -> None:
    """The hash-chained, signed audit trail of this project (.llmpipe/audit/)."""


@audit.command(name="log")
@click.option("--since", help="Only records at or after T (ISO date/time, or 30m, 12h, 7d ago).")
@click.option(
    "--actor",
    help="Only records by A: a policy member name, a key fingerprint (or its start), or part of "
    "a git name.",
)
@click.option(
    "--action",
    help="Only records of action X: a command (repro, 'policy grant') or a policy action "
    "(promote, promote:production, deploy).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@verbose_option
def log(
    since: str | None, actor: str | None, action: str | None, as_json: bool, verbose: bool
) -> None:
    """Show audit records, oldest first."""
    from ..project import find_root
    from ..security.audit.log import AuditLog, audit_dir
    from ..security.identity import actor_query

    root = find_root(".")
    records = AuditLog(audit_dir(root)).records()
    cutoff = _parse_since(since) if since else None
    who = actor_query(root, actor) if actor else None
    chosen = [r for r in records if _matches(r, cutoff, who, action)]
    if as_json:
        emit_json(chosen)
        return
    for record in chosen:
        click.echo(_line(record))
    if not chosen:
        click.echo("No audit records" + (" match." if records else " yet."))


def _parse_since(text: str) -> str:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isdigit() and text[-1:] in units:
        moment = datetime.now(timezone.utc) - timedelta(**{units[text[-1]]: int(text[:-1])})
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(
                f"'{text}' is neither an ISO date/time nor like 30m, 12h, 7d"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _matches(
    record: dict[str, Any], cutoff: str | None, who: ActorQuery | None, action: str | None
) -> bool:
    from ..security.audit.select import action_matches

    if cutoff and str(record.get("time", "")) < cutoff:
        return False
    if who is not None and not who.matches(record):
        return False
    return action is None or action_matches(record, action)


def _line(record: dict[str, Any]) -> str:
    from ..security.identity import actor_label

    who = actor_label(record)
    actor = str(record.get("actor", ""))
    short = actor if actor == "unsigned" else actor[:15]
    args = " ".join(str(a) for a in record.get("args", []))
    result = str(record.get("result"))
    if record.get("refused"):
        result += " (" + "; ".join(r["reason"] for r in record["refused"]) + ")"
    elif record.get("error"):
        result += f" ({record['error']})"
    targets = len(record.get("targets") or [])
    extra = f" [{targets} target(s)]" if targets else ""
    return (
        f"{record.get('time')}  {short} {who}  {record.get('command')} {args}  -> {result}{extra}"
    )


@audit.command()
@click.option(
    "--require-signed", is_flag=True, help="Fail on unsigned records (also set by the policy)."
)
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def verify(require_signed: bool, as_json: bool, verbose: bool) -> None:
    """Check every record's hash chain and signature; name the first bad record."""
    from ..project import find_root
    from ..security.audit.log import AuditLog, audit_dir
    from ..security.audit.verify import verify_log
    from ..security.policy.load import load_policy, policy_in_force

    root = find_root(".")
    known = None
    if policy_in_force(root):
        current = load_policy(root)
        require_signed = require_signed or bool(current.settings.get("audit_requires_signature"))
        known = {m.fingerprint: m.name for m in current.members.values()}
    report = verify_log(AuditLog(audit_dir(root)), require_signed=require_signed, known_keys=known)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "chains": report.chains,
                "records": report.records,
                "unsigned": report.unsigned,
                "problems": [str(p) for p in report.problems],
                "warnings": report.warnings,
            }
        )
    else:
        _print_report(report)
    if not report.ok:
        sys.exit(1)


def _print_report(report: Any) -> None:
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    for problem in report.problems:
        click.secho(f"BAD: {problem}", fg="red", err=True)
    status = "OK" if report.ok else "FAILED"
    unsigned = f", {report.unsigned} unsigned" if report.unsigned else ""
    click.echo(
        f"audit log {status}: {report.records} record(s) in {report.chains} chain(s){unsigned}"
    )
