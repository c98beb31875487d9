"""Changing the policy: each change is a new version, signed by an admin, appended under a lock.

`init_policy` writes version 1, `change_policy` applies an edit (see `edits`),
`rotate_root` moves the root; each verifies the new history before writing it
and then updates the committed root pin and this clone's memory (`rootpin`).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ...errors import AccessError, PolicyError
from ..canonical import canonical_json, value_hash
from .chain import verify_chain
from .load import load_policy
from .model import DEFAULT_ROLES, Policy, check_action, check_name
from .rootpin import refuse_if_pinned, remember
from .store import FORMAT, append_version, has_policy, policy_lock, policy_paths, read_log

if TYPE_CHECKING:
    from ..keys import SigningKey
    from .edits import PolicyEdit


def init_policy(root: str, key: SigningKey, name: str) -> Policy:
    """Version 1: `key` becomes the first member, named `name`, with the admin role."""
    check_name(name, "member")
    _, log_path = policy_paths(root)
    with policy_lock(root):
        if has_policy(root):
            raise PolicyError(
                f"{log_path} already exists: change it with 'llmpipe policy grant/...'"
            )
        refuse_if_pinned(root)
        body = {
            "members": {name: {"key": key.public_key, "roles": ["admin"]}},
            "roles": {role: list(perms) for role, perms in DEFAULT_ROLES.items()},
            "settings": {"audit_requires_signature": False},
        }
        return _write_version(root, key, body, [])


def change_policy(root: str, key: SigningKey, edit: PolicyEdit) -> Policy:
    """Apply `edit` to a copy of the current body, sign it with an admin `key`, append it.

    Raises AccessError when `key` is not an admin of the current version.
    """
    with policy_lock(root):
        current = load_policy(root)
        decision = current.decide(key.fingerprint, "admin")
        if not decision.allowed:
            raise AccessError(f"changing the policy needs 'admin': {decision.reason}")
        body = current.to_body()
        edit(body)
        _check_body(body)
        _check_root_kept(body, current)
        return _write_version(root, key, body, _checkout_history(root, current))


def rotate_root(root: str, key: SigningKey, new_root: str) -> Policy:
    """A version moving the root to the admin `new_root` (name, key or fingerprint).

    Only the current root `key` may sign it (AccessError otherwise); clones
    that pinned the old root follow the signed rotation.
    """
    with policy_lock(root):
        current = load_policy(root)
        if key.fingerprint != current.root:
            raise AccessError(
                f"rotating the root needs the current root key {current.root}; "
                f"you sign with {key.fingerprint}"
            )
        member = current.member_for(new_root)
        if member is None:
            raise PolicyError(
                f"'{new_root}' is not a member: add them first "
                "(llmpipe policy add-member NAME KEY --role admin)"
            )
        if not current.allows(member.fingerprint, "admin"):
            raise PolicyError(
                f"{member.name} is not an admin: grant them admin first "
                f"(llmpipe policy grant {member.name} admin)"
            )
        if member.fingerprint == current.root:
            raise PolicyError(f"{member.name} already holds the root key")
        body = {**current.to_body(), "root": member.fingerprint}
        return _write_version(root, key, body, _checkout_history(root, current))


def _write_version(
    root: str, key: SigningKey, body: dict[str, Any], history: list[dict[str, Any]]
) -> Policy:
    envelope: dict[str, Any] = {
        "format": FORMAT,
        "version": len(history) + 1,
        "previous": value_hash(history[-1]) if history else None,
        **body,
        "signed_by": key.fingerprint,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    envelope["signature"] = key.sign(canonical_json(envelope))
    policy = verify_chain([*history, envelope], "new policy")
    append_version(root, envelope)
    remember(root, [*history, envelope], policy)
    return policy


def _checkout_history(root: str, current: Policy) -> list[dict[str, Any]]:
    """The workspace's policy log, when it holds the version in force; for changes."""
    _, log_path = policy_paths(root)
    history = read_log(log_path) if os.path.exists(log_path) else []
    if len(history) != current.version:
        raise PolicyError(
            f"this checkout's {log_path} has {len(history)} version(s), but version "
            f"{current.version} is in force (the newest this clone verified): change the "
            "policy on a commit that has it (check out your main branch), or the policy's "
            "history would fork"
        )
    return history


def _admin_names(body: dict[str, Any]) -> list[str]:
    return [
        n
        for n, m in body["members"].items()
        if any(
            "admin" in body["roles"].get(r, ()) or "*" in body["roles"].get(r, ())
            for r in m["roles"]
        )
    ]


def _check_root_kept(body: dict[str, Any], current: Policy) -> None:
    # The root signs rotations, so it stays an admin until the root moves on.
    holder = current.member_for(current.root)
    if holder is None:
        return  # an older history whose root had already left: nothing to keep
    admins = {body["members"][n]["key"] for n in _admin_names(body)}
    if holder.key not in admins:
        raise PolicyError(
            f"{holder.name} holds the policy's root key and must stay an admin: move the "
            "root first (llmpipe policy rotate-root ANOTHER_ADMIN)"
        )


def _check_body(body: dict[str, Any]) -> None:
    admins = _admin_names(body)
    if not admins:
        raise PolicyError("the change would leave the policy without any admin; refused")
    for role, perms in body["roles"].items():
        for perm in perms:
            if perm != "*" and not perm.endswith(":*"):
                try:
                    check_action(perm)
                except PolicyError as exc:
                    raise PolicyError(f"role '{role}': {exc}") from None
