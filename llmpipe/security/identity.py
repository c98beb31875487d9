"""Who a signed record names: the key's fingerprint, the policy member holding that key, a git name.

Audit records and registry events carry `actor` (the key's fingerprint, or
"unsigned"), `actor_member` (the access-policy member whose key signed it, when
a policy was in force) and `actor_name` (the git identity, for display only: anyone
can set it). People are named by their member name; the fingerprint is the proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import LlmpipeError


def member_name(root: str, fingerprint: str | None) -> str | None:
    """The policy member whose key has `fingerprint`; None without a policy or such a member.

    A policy that does not load names nobody here; the verbs that need it refuse
    on their own, and a record must still be written.
    """
    if not fingerprint:
        return None
    from .policy.load import load_policy, policy_in_force

    try:
        if not policy_in_force(root):
            return None
        member = load_policy(root).member_for(fingerprint)
    except LlmpipeError:
        return None
    return member.name if member is not None else None


def actor_label(record: Mapping[str, Any]) -> str:
    """How to show who signed `record`: the member name, else the git name, else ''."""
    return str(record.get("actor_member") or record.get("actor_name") or "")


@dataclass(frozen=True)
class ActorQuery:
    """`--actor WHO`: a member name, a fingerprint (or prefix of one), or part of a git name.

    `member_keys` are the fingerprints of the policy member named WHO, so records
    signed before member names were recorded are found too.
    """

    who: str
    member_keys: frozenset[str] = frozenset()

    def matches(self, record: Mapping[str, Any]) -> bool:
        actor = str(record.get("actor") or "")
        if str(record.get("actor_member") or "").lower() == self.who.lower():
            return True
        if actor in self.member_keys or actor.startswith(self.who):
            return True
        return self.who.lower() in str(record.get("actor_name") or "").lower()


def actor_query(root: str, who: str) -> ActorQuery:
    """The query for `who`, knowing the keys the project's policy gives a member of that name."""
    from .policy.load import load_policy, policy_in_force

    try:
        member = load_policy(root).member_for(who) if policy_in_force(root) else None
    except LlmpipeError:
        member = None
    keys = frozenset({member.fingerprint}) if member is not None else frozenset()
    return ActorQuery(who, keys)
