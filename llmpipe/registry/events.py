"""Registry events: canonical-JSON envelopes, chained by hash and signed by their actor.

An event: `format`, `seq` (0, 1, ...), `prev` (`sha256:<hex>` of the previous
event's canonical JSON, null for the first), `time` (UTC), `type`, `model`,
`data` (type-specific), `actor` (key fingerprint), `actor_key` (public key),
`actor_member` (the access-policy member holding that key, when a policy is in
force), `actor_name` (git identity, display only) and `sig`: the actor's ed25519
signature over the canonical JSON of the event without `sig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..security.canonical import canonical_json, value_hash

if TYPE_CHECKING:
    from ..security.keys import SigningKey

FORMAT = 1
TYPES = ("register", "promote", "rollback", "deprecate", "deploy", "monitor")


def event_hash(event: Mapping[str, Any]) -> str:
    """`sha256:<hex>` of the canonical JSON of a whole event (signature included)."""
    return value_hash(dict(event))


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_event(
    previous: Mapping[str, Any] | None,
    kind: str,
    model: str,
    data: Mapping[str, Any],
    key: SigningKey,
    actor_name: str | None,
    actor_member: str | None = None,
) -> dict[str, Any]:
    """A signed event following `previous` (None: the first event of the log).

    `actor_member` is the policy member holding `key` (left out when None, so a
    project without a policy writes events of the same shape as before).
    """
    event: dict[str, Any] = {
        "format": FORMAT,
        "seq": 0 if previous is None else int(previous["seq"]) + 1,
        "prev": None if previous is None else event_hash(previous),
        "time": now(),
        "type": kind,
        "model": model,
        "data": dict(data),
        "actor": key.fingerprint,
        "actor_key": key.public_key,
        "actor_name": actor_name,
    }
    if actor_member is not None:
        event["actor_member"] = actor_member
    event["sig"] = key.sign(canonical_json(event))
    return event


def signature_ok(event: Mapping[str, Any]) -> bool:
    """Whether `sig` is `actor_key`'s signature of the event and `actor` is that key."""
    from ..errors import CryptoError
    from ..security.keys import fingerprint, verify_signature

    key = str(event.get("actor_key") or "")
    try:
        if fingerprint(key) != event.get("actor"):
            return False
    except CryptoError:
        return False
    unsigned = {k: v for k, v in event.items() if k != "sig"}
    return verify_signature(key, canonical_json(unsigned), str(event.get("sig") or ""))


def actions_of(event: Mapping[str, Any]) -> list[str]:
    """The policy actions an event needs (checked when written and when verified).

    A forced promotion needs `admin` as well; deprecation and monitoring
    records need `register` and `deploy` respectively.
    """
    kind, data = event.get("type"), event.get("data")
    data = data if isinstance(data, Mapping) else {}  # malformed: verify names it elsewhere
    if kind == "promote":
        needed = [f"promote:{data.get('alias')}"]
        return [*needed, "admin"] if data.get("forced") else needed
    return {
        "register": ["register"],
        "rollback": ["rollback"],
        "deprecate": ["register"],
        "deploy": ["deploy"],
        "monitor": ["deploy"],
    }.get(str(kind), ["admin"])
