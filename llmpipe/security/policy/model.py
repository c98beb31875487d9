"""The policy as a value: members, roles and the permissions they grant, promotion gates.

No I/O: `Policy.decide` answers "may this key do that action, and why".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import PolicyError
from ..keys import fingerprint as key_fingerprint

ACTIONS = ("admin", "register", "promote", "rollback", "deploy", "push", "pull", "decrypt")
DEFAULT_ROLES: dict[str, list[str]] = {
    "admin": ["admin", "register", "promote:*", "rollback", "deploy", "push", "pull", "decrypt"],
    "maintainer": ["register", "promote:*", "rollback", "deploy", "push", "pull", "decrypt"],
    "contributor": ["register", "promote:staging", "push", "pull", "decrypt"],
    "reader": ["pull", "decrypt"],
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_ACTION = re.compile(r"^([a-z]+)(?::([A-Za-z0-9_.*-]+))?$")
GATE_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # registry/names.py's alias rule


@dataclass(frozen=True)
class Member:
    name: str
    key: str
    roles: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.key)


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    action: str
    reason: str
    member: str | None = None


@dataclass(frozen=True)
class Policy:
    """One verified version of the policy."""

    version: int
    members: Mapping[str, Member]
    roles: Mapping[str, tuple[str, ...]]
    settings: Mapping[str, Any] = field(default_factory=dict)
    hash: str = ""
    signed_by: str = ""
    gates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # alias -> checks
    # Fingerprints of the keys the history was rooted at, oldest first: the signer
    # of version 1, then each rotation's new root (see `rootpin`).
    roots: tuple[str, ...] = ()

    @property
    def root(self) -> str:
        return self.roots[-1] if self.roots else ""

    def member_for(self, who: str) -> Member | None:
        """The member whose public key or fingerprint is `who`, or the member named `who`."""
        for member in self.members.values():
            if who in (member.key, member.fingerprint, member.name):
                return member
        return None

    def permissions_of(self, member: Member) -> set[str]:
        return {perm for role in member.roles for perm in self.roles.get(role, ())}

    def decide(self, who: str | None, action: str) -> AccessDecision:
        """Whether the identity `who` (key or fingerprint) may do `action`, and why."""
        check_action(action)
        member = self.member_for(who) if who else None
        if member is None:
            ident = who or "no signing key"
            return AccessDecision(False, action, f"{ident} is not a member of the policy")
        granted = sorted(p for p in self.permissions_of(member) if permits(p, action))
        if granted:
            roles = ", ".join(r for r in member.roles if set(self.roles.get(r, ())) & set(granted))
            return AccessDecision(
                True, action, f"{member.name} has '{action}' via {roles}", member.name
            )
        roles = ", ".join(member.roles) or "no roles"
        return AccessDecision(
            False, action, f"{member.name} ({roles}) lacks the permission '{action}'", member.name
        )

    def allows(self, who: str | None, action: str) -> bool:
        return self.decide(who, action).allowed

    def gates_for(self, alias: str) -> tuple[str, ...]:
        """The checks a promotion to `alias` must pass (the registry evaluates them)."""
        return tuple(self.gates.get(alias, ()))

    def to_body(self) -> dict[str, Any]:
        body = {
            "members": {
                name: {"key": m.key, "roles": list(m.roles)} for name, m in self.members.items()
            },
            "roles": {name: list(perms) for name, perms in self.roles.items()},
            "settings": dict(self.settings),
        }
        if self.gates:  # absent until first set, so older versions keep their exact form
            body["gates"] = {alias: list(checks) for alias, checks in self.gates.items()}
        return body


def check_action(action: str) -> None:
    """Raise PolicyError unless `action` is a known action (`promote` needs `:alias`)."""
    match = _ACTION.match(action)
    base = match.group(1) if match else ""
    if base not in ACTIONS:
        raise PolicyError(f"unknown action '{action}': use one of {', '.join(_action_forms())}")
    if base == "promote" and not match.group(2):  # type: ignore[union-attr]
        raise PolicyError(
            "name the alias to promote to: 'promote:<alias>' (e.g. promote:production)"
        )


def _action_forms() -> list[str]:
    return [a + ":<alias>" if a == "promote" else a for a in ACTIONS]


def permits(permission: str, action: str) -> bool:
    """Whether a granted permission (`deploy`, `promote:*`, `*`) covers `action`."""
    if permission in ("*", action):
        return True
    return permission.endswith(":*") and action.startswith(permission[:-1])


def check_name(name: str, what: str) -> None:
    """PolicyError unless `name` is a valid member or role name (`what` says which)."""
    if not _NAME.match(name):
        raise PolicyError(
            f"'{name}' is not a valid {what} name: letters, digits, '.', '_', '@', '-'"
        )


def is_check_list(checks: Any) -> bool:
    return isinstance(checks, list) and all(isinstance(c, str) and c.strip() for c in checks)
