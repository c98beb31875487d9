"""`registry verify`: replay the log checking the chain, the signatures and the permissions.

Each event must be canonical JSON, carry the next `seq`, name the hash of
the event before it, be signed by the key it names, and be allowed by the
project's access policy (the current version of it) for every action it
needs (`events.actions_of`), and every name it carries that becomes a path
must be safe (`names`). Replaying must succeed too (no promotion of an
unknown version, ...), and every promotion is judged again by the gates of
the policy version it names (`gates.promotion_faults`). Every problem names
the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import LlmpipeError
from ..security.canonical import canonical_json, load_json
from .events import actions_of, event_hash, signature_ok


@dataclass
class VerifyReport:
    location: str
    events: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(root: str, store: Any | None = None) -> VerifyReport:
    """Check every event of the project's registry; problems are values, not raised."""
    from .storage import open_store

    store = store or open_store(root)
    report = VerifyReport(store.location)
    seen = store.seen()  # before the log is read: it may grow meanwhile
    policy = _policy(root, report)
    previous: dict[str, Any] | None = None
    parsed = []
    lines = store.lines()
    for index, raw in enumerate(lines):
        event = _check_line(raw, index, previous, policy, report)
        if event is None:
            break  # later events cannot chain to a broken one; the first fault is named
        parsed.append(event)
        previous = event
    report.events = len(parsed)
    if len(parsed) == len(lines):  # the whole chain links: compare it with what was seen
        fault = store.check_history(parsed, seen)
        if fault is not None:
            report.problems.append(fault)
    if report.ok:
        _check_replay(parsed, report)
    if report.ok and policy is not None:
        _check_gates(root, parsed, report)
    return report


def _policy(root: str, report: VerifyReport) -> Any:
    from ..security.policy.load import load_policy, policy_in_force

    try:
        if not policy_in_force(root):
            report.warnings.append("no access policy: permissions and gates were not checked")
            return None
        return load_policy(root)
    except LlmpipeError as exc:
        report.problems.append(f"the access policy does not verify: {exc}")
        return None


def _check_line(
    raw: bytes, index: int, previous: dict[str, Any] | None, policy: Any, report: VerifyReport
) -> dict[str, Any] | None:
    where = f"event {index}"
    try:
        event = load_json(raw)
    except ValueError:
        report.problems.append(f"{where}: not JSON (edited or cut)")
        return None
    if not isinstance(event, dict) or canonical_json(event) != raw:
        report.problems.append(f"{where}: not in canonical form (edited by hand)")
        return None
    fault = _chain_fault(event, index, previous) or _signature_fault(event)
    if fault:
        report.problems.append(f"{where} ({event.get('type')} {event.get('model')}): {fault}")
        return None
    unsafe = _names_fault(event)
    if unsafe:
        report.problems.append(f"{where} ({event.get('type')} {event.get('model')}): {unsafe}")
    claim = _member_fault(event, policy)
    if claim:
        report.problems.append(f"{where} ({event.get('type')} {event.get('model')}): {claim}")
    for action in actions_of(event) if policy is not None else ():
        decision = policy.decide(event.get("actor"), action)
        if not decision.allowed:
            report.problems.append(
                f"{where} ({event.get('type')} {event.get('model')}): signed by "
                f"{event.get('actor')}, not allowed: {decision.reason}"
            )
    return event


def _chain_fault(event: dict[str, Any], index: int, previous: dict[str, Any] | None) -> str:
    if event.get("seq") != index:
        return f"sequence number {event.get('seq')!r} (events removed, inserted or reordered)"
    expected = None if previous is None else event_hash(previous)
    if event.get("prev") != expected:
        return "does not chain to the event before it (its 'prev' hash differs)"
    return ""


def _signature_fault(event: dict[str, Any]) -> str:
    if not event.get("sig"):
        return "unsigned"
    if not signature_ok(event):
        return f"bad signature: not signed by its actor {event.get('actor')} (edited or forged)"
    return ""


def _member_fault(event: dict[str, Any], policy: Any) -> str:
    """An `actor_member` the signing key does not belong to (a signer posing as another)."""
    claimed = event.get("actor_member")
    if claimed is None or policy is None:
        return ""
    member = policy.member_for(str(event.get("actor")))
    if member is not None and member.name != claimed:
        return f"names member '{claimed}', but its key {event.get('actor')} is {member.name}'s"
    return ""


def _names_fault(event: dict[str, Any]) -> str:
    from ..errors import RegistryError
    from .names import check_event_names

    try:
        check_event_names(event)
    except RegistryError as exc:
        return f"unsafe name: {exc}"
    return ""


def _check_replay(events: list[dict[str, Any]], report: VerifyReport) -> None:
    from .state import replay

    try:
        replay(events, report.location)
    except LlmpipeError as exc:
        report.problems.append(str(exc))


def _check_gates(root: str, events: list[dict[str, Any]], report: VerifyReport) -> None:
    from ..security.policy.load import policy_history
    from .gates import promotion_faults

    report.problems.extend(promotion_faults(events, policy_history(root), report.location))
