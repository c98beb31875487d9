"""`llmpipe audit`: read and verify the audit trail; the hook that records each command."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from .render import emit_json, verbose_option

# Commands whose every run is recorded ("group" covers all its subcommands).
AUDITED = {
    "repro", "add", "checkout", "gc", "push", "pull", "fetch", "policy", "registry",
    "deploy", "monitor",
}  # fmt: skip
AUDITED_SUBCOMMANDS = {("keys", "use"), ("trust", "accept")}
GROUPS = {"policy", "registry", "keys", "audit", "remote", "trust"}
# Recorded only when they touched something: a no-op repro writes nothing.
ONLY_IF_TARGETS = {"repro"}


def audited_command(argv: Sequence[str]) -> tuple[str, list[str]] | None:
    """(command, its arguments) when `argv` runs an audited command, else None."""
    words = list(argv)
    if not words or words[0].startswith("-") or {"-h", "--help"} & set(words):
        return None
    name, rest = words[0], words[1:]
    if name in GROUPS and rest and not rest[0].startswith("-"):
        sub = rest[0]
        if name in AUDITED or (name, sub) in AUDITED_SUBCOMMANDS:
            return f"{name} {sub}", rest[1:]
        return None
    return (name, rest) if name in AUDITED else None


@contextlib.contextmanager
def cli_session(argv: Sequence[str]) -> Iterator[Any]:
    """Collect what one CLI command does and append its audit record when it ends.

    The block sets `session.exit_code` (and `session.error` on a user error);
    a SystemExit raised inside is recorded with its code and re-raised.
    """
    from ..security import audit

    found = audited_command(argv)
    if found is None:
        yield audit.Session("", [], "")
        return
    command, args = found
    session = audit.begin(command, args, only_if_targets=command in ONLY_IF_TARGETS)
    try:
        yield session
    except SystemExit as exc:
        session.exit_code = (
            exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        )
        raise
    except BaseException:
        session.exit_code = session.exit_code or 1
        raise
    finally:
        audit.end()
        _write(session)


def _write(session: Any) -> None:
    from ..errors import LlmpipeError
    from ..repo import find_root
    from ..security import audit

    entry = audit.session_entry(session)
    if entry is None:
        return
    try:
        root = find_root(session.cwd)
    except LlmpipeError:
        return  # not in a project: nothing to audit
    from .keys import prompt_passphrase

    try:
        key = audit._try_key(None, prompt_passphrase)
        audit.AuditLog(audit.audit_dir(root)).append(entry, key)
    except (LlmpipeError, OSError) as exc:
        click.secho(f"WARNING: could not write the audit record: {exc}", fg="yellow", err=True)


@click.group()
def audit() -> None:
    """The hash-chained, signed audit trail of this project (.llmpipe/audit/)."""


@audit.command(name="log")
@click.option("--since", help="Only records at or after T (ISO date/time, or 30m, 12h, 7d ago).")
@click.option("--actor", help="Only records by A (fingerprint prefix, or part of the name).")
@click.option(
    "--action", help="Only records of command X (e.g. repro, 'policy grant', promote:production)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON.")
@verbose_option
def log(
    since: str | None, actor: str | None, action: str | None, as_json: bool, verbose: bool
) -> None:
    """Show audit records, oldest first."""
    from ..repo import find_root
    from ..security.audit import AuditLog, audit_dir

    records = AuditLog(audit_dir(find_root("."))).records()
    cutoff = _parse_since(since) if since else None
    chosen = [r for r in records if _matches(r, cutoff, actor, action)]
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
    record: dict[str, Any], cutoff: str | None, actor: str | None, action: str | None
) -> bool:
    if cutoff and str(record.get("time", "")) < cutoff:
        return False
    if actor and not (
        str(record.get("actor", "")).startswith(actor)
        or actor.lower() in str(record.get("actor_name") or "").lower()
    ):
        return False
    if action:
        refused = {r.get("action") for r in record.get("refused", [])}
        command = str(record.get("command", ""))
        if not (command == action or command.startswith(action + " ") or action in refused):
            return False
    return True


def _line(record: dict[str, Any]) -> str:
    who = record.get("actor_name") or ""
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
    from ..repo import find_root
    from ..security.audit import AuditLog, audit_dir
    from ..security.policy import load_policy, policy_in_force

    root = find_root(".")
    known = None
    if policy_in_force(root):
        current = load_policy(root)
        require_signed = require_signed or bool(current.settings.get("audit_requires_signature"))
        known = {m.fingerprint for m in current.members.values()}
    report = AuditLog(audit_dir(root)).verify(require_signed=require_signed, known_keys=known)
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
