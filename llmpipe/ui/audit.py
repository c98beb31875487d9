"""The audit page's values: the records, filtered, and the chains' verification.

Verification is `audit verify`'s: every chain checked record by record against
its head and this clone's witness, with unsigned records a problem when the
access policy requires signatures, and keys outside the policy named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import LlmpipeError

if TYPE_CHECKING:
    from ..security.audit.verify import VerifyReport

RESULTS = ("ok", "failed", "refused")


@dataclass(frozen=True)
class AuditFilter:
    """What the page's form asks for; empty fields match everything."""

    text: str = ""  # in the command, its arguments, targets or error
    actor: str = ""  # a key fingerprint prefix, or part of the name
    result: str = ""  # ok, failed or refused
    since: str = ""  # an ISO date or time (UTC)

    def matches(self, record: dict[str, Any]) -> bool:
        if self.result and record.get("result") != self.result:
            return False
        if self.since and str(record.get("time", "")) < self.since:
            return False
        if self.actor and not _actor_matches(record, self.actor):
            return False
        return not self.text or self.text.lower() in _searchable(record)


def _actor_matches(record: dict[str, Any], wanted: str) -> bool:
    actor = str(record.get("actor", ""))
    name = str(record.get("actor_name") or "").lower()
    return actor.startswith(wanted) or wanted.lower() in name


def _searchable(record: dict[str, Any]) -> str:
    parts = [str(record.get("command", "")), *map(str, record.get("args") or [])]
    parts += [str(t.get("path", "")) for t in record.get("targets") or [] if isinstance(t, dict)]
    parts += [str(record.get("error") or "")]
    parts += [str(r.get("action", "")) for r in record.get("refused") or [] if isinstance(r, dict)]
    return " ".join(parts).lower()


@dataclass
class AuditView:
    records: list[dict[str, Any]] = field(default_factory=list)  # newest first, filtered
    total: int = 0
    report: VerifyReport | None = None
    error: str | None = None


def audit_view(root: str, wanted: AuditFilter, limit: int = 500) -> AuditView:
    """The records `wanted` matches (at most `limit`, newest first) and the verification."""
    from ..security.audit.log import AuditLog, audit_dir
    from ..security.audit.verify import verify_log

    view = AuditView()
    log = AuditLog(audit_dir(root))
    try:
        records = log.records()
        require_signed, known = _policy_expectations(root)
        view.report = verify_log(log, require_signed=require_signed, known_keys=known)
    except (LlmpipeError, OSError) as exc:
        view.error = str(exc)
        return view
    chosen = [r for r in records if wanted.matches(r)]
    chosen.sort(key=lambda r: str(r.get("time", "")), reverse=True)
    view.total = len(chosen)
    view.records = chosen[:limit]
    return view


def _policy_expectations(root: str) -> tuple[bool, set[str] | None]:
    """Whether the policy requires signed records, and its members' keys (None: no policy)."""
    from ..security.policy.load import load_policy, policy_in_force

    if not policy_in_force(root):
        return False, None
    current = load_policy(root)
    members = {m.fingerprint for m in current.members.values()}
    return bool(current.settings.get("audit_requires_signature")), members
