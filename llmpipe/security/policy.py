"""The access policy: who may register, promote, roll back, deploy, push, decrypt, administer.

Two committed files hold it:

- `.llmpipe/policy.log`: every version ever made, one canonical-JSON envelope
  per line. Version 1 is signed by its own first admin; every later version
  names the hash of the one before (`previous`) and is signed by a member who
  holds `admin` in that previous version.
- `.llmpipe/policy.yaml`: the latest envelope as readable YAML; it must be
  identical to the last line of the log.

`load_policy` verifies the whole chain and refuses (PolicyError naming the
version and the fault) on any mismatch, so a hand edit that no admin signed
never takes effect. The signer of version 1 is the policy's root, which
moves only by a rotation the current root signs; `rootpin` checks every
loaded history against the pinned root (`.llmpipe/root.yaml` and this
clone's memory) and against how far this clone has already seen it. The
library API for other modules is `load_policy`, `Policy.allows`,
`policy_in_force` and `require`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import AccessError, PolicyError
from ..fsutil import append_durably, atomic_write_text, locked
from .canonical import canonical_json, value_hash

if TYPE_CHECKING:
    from .keys import PassphraseSource, SigningKey

POLICY_FILE = "policy.yaml"
POLICY_LOG = "policy.log"
FORMAT = 1

ACTIONS = ("admin", "register", "promote", "rollback", "deploy", "push", "pull", "decrypt")
DEFAULT_ROLES: dict[str, list[str]] = {
    "admin": ["admin", "register", "promote:*", "rollback", "deploy", "push", "pull", "decrypt"],
    "maintainer": ["register", "promote:*", "rollback", "deploy", "push", "pull", "decrypt"],
    "contributor": ["register", "promote:staging", "push", "pull", "decrypt"],
    "reader": ["pull", "decrypt"],
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_ACTION = re.compile(r"^([a-z]+)(?::([A-Za-z0-9_.*-]+))?$")
_GATE_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # registry/names.py's alias rule
_YAML_HEADER = (
    "# llmpipe access policy (version {version}). Do not edit by hand: change it with\n"
    "# 'llmpipe policy ...'; every version is signed by an admin and chained in policy.log.\n"
)


@dataclass(frozen=True)
class Member:
    name: str
    key: str
    roles: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        from .keys import fingerprint

        return fingerprint(self.key)


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


# Reading and verifying


def policy_paths(root: str) -> tuple[str, str]:
    base = os.path.join(root, ".llmpipe")
    return os.path.join(base, POLICY_FILE), os.path.join(base, POLICY_LOG)


def has_policy(root: str) -> bool:
    """Whether policy files exist (see `policy_in_force` for whether one must)."""
    return any(os.path.exists(p) for p in policy_paths(root))


def policy_in_force(root: str) -> bool:
    """Whether the project has an access policy to enforce.

    False only for a project that never had one. A project whose root key is
    pinned (committed `.llmpipe/root.yaml`, or this clone's memory) but whose
    policy files are gone raises PolicyError: deleting the policy is not a
    way to turn access control off.
    """
    from .rootpin import in_force

    return in_force(root)


def load_policy(repo: Any) -> Policy:
    """The policy in force in a project (`Repo` or root path), verified from version 1 on.

    That is the last version of `.llmpipe/policy.log`, or of the newer history this
    clone verified before when the workspace holds only its beginning (an older
    commit) or no policy files (see `rootpin.newest_known`). Raises PolicyError when
    there is none, when anything fails verification, or when the history
    contradicts a pinned root or what this clone has already seen of it.
    """
    return _history_in_force(_root_of(repo))[1]


def policy_history(repo: Any) -> list[Policy]:
    """Every version of the policy in force, oldest first, verified as `load_policy` does."""
    envelopes, _ = _history_in_force(_root_of(repo))
    return [_policy_from(e, f"policy version {n}") for n, e in enumerate(envelopes, 1)]


def _history_in_force(root: str) -> tuple[list[dict[str, Any]], Policy]:
    from .rootpin import check_history, missing_policy_error, newest_known, policy_log_name
    from .witness import Witness

    yaml_path, log_path = policy_paths(root)
    trust = Witness.of(root)
    seen = trust.mark(policy_log_name().id)  # before the log is read: it may grow meanwhile
    envelopes = _workspace_history(yaml_path, log_path)
    policy = verify_chain(envelopes, log_path) if envelopes is not None else None
    if envelopes is not None:
        _check_yaml_matches(yaml_path, envelopes[-1])
    kept = newest_known(trust, envelopes)
    if kept is not None:
        envelopes, policy = kept, verify_chain(kept, f"this clone's copy of {log_path}")
    if envelopes is None or policy is None:
        raise missing_policy_error(root) or PolicyError(
            f"this project has no access policy: run 'llmpipe policy init' in {root}"
        )
    check_history(root, trust, envelopes, policy, seen)
    return envelopes, policy


def _workspace_history(yaml_path: str, log_path: str) -> list[dict[str, Any]] | None:
    if os.path.exists(log_path):
        return _read_log(log_path)
    if os.path.exists(yaml_path):
        raise PolicyError(
            f"{yaml_path} exists but its signed history {log_path} is missing: "
            "restore it from git (git checkout -- .llmpipe/policy.log)"
        )
    return None


def _checkout_history(root: str, current: Policy) -> list[dict[str, Any]]:
    """The workspace's policy log, when it holds the version in force; for changes."""
    _, log_path = policy_paths(root)
    history = _read_log(log_path) if os.path.exists(log_path) else []
    if len(history) != current.version:
        raise PolicyError(
            f"this checkout's {log_path} has {len(history)} version(s), but version "
            f"{current.version} is in force (the newest this clone verified): change the "
            "policy on a commit that has it (check out your main branch), or the policy's "
            "history would fork"
        )
    return history


def _root_of(repo: Any) -> str:
    return repo if isinstance(repo, str) else repo.root


def _read_log(log_path: str) -> list[dict[str, Any]]:
    import json

    envelopes = []
    with open(log_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            text = line.rstrip("\n")
            try:
                envelope = json.loads(text)
            except ValueError:
                raise PolicyError(f"{log_path}:{number}: not a JSON policy version") from None
            if not isinstance(envelope, dict) or canonical_json(envelope).decode() != text:
                raise PolicyError(f"{log_path}:{number}: the line was edited (not canonical JSON)")
            envelopes.append(envelope)
    if not envelopes:
        raise PolicyError(f"{log_path} is empty: restore it from git")
    return envelopes


def verify_chain(envelopes: list[dict[str, Any]], where: str) -> Policy:
    """Verify versions, hash links and admin signatures; return the last version."""
    authority: Policy | None = None
    previous_hash = None
    roots: list[str] = []
    for index, envelope in enumerate(envelopes, 1):
        label = f"{where}: version {index}"
        if envelope.get("version") != index:
            raise PolicyError(
                f"{label}: found version {envelope.get('version')!r}; "
                "versions were removed or reordered"
            )
        if envelope.get("previous") != previous_hash:
            raise PolicyError(
                f"{label}: does not chain to version {index - 1} (its 'previous' hash differs)"
            )
        current = _policy_from(envelope, label)
        _verify_signature(envelope, authority or current, label)
        roots = _next_roots(envelope, roots, authority or current, current, label)
        authority, previous_hash = current, value_hash(envelope)
    assert authority is not None
    return replace(authority, roots=tuple(roots))


def _next_roots(
    envelope: dict[str, Any], roots: list[str], authority: Policy, current: Policy, label: str
) -> list[str]:
    """The roots after `envelope`: version 1's signer, or a rotation the current root signed."""
    signer = authority.member_for(str(envelope.get("signed_by", "")))
    assert signer is not None  # _verify_signature refused an unknown signer
    named = envelope.get("root")
    if not roots:
        if named not in (None, signer.fingerprint):
            raise PolicyError(
                f"{label}: names the root {named} but is signed by {signer.fingerprint}; "
                "version 1 is signed by its root"
            )
        return [signer.fingerprint]
    if named is None or named == roots[-1]:
        return roots
    if signer.fingerprint != roots[-1]:
        raise PolicyError(
            f"{label}: moves the root to {named}, but is signed by {signer.name} "
            f"({signer.fingerprint}), not by the current root {roots[-1]}"
        )
    if not current.allows(str(named), "admin"):
        raise PolicyError(f"{label}: moves the root to {named}, who is not an admin there")
    return [*roots, str(named)]


def _policy_from(envelope: dict[str, Any], label: str) -> Policy:
    try:
        members = {
            str(name): Member(str(name), str(m["key"]), tuple(str(r) for r in m.get("roles", ())))
            for name, m in dict(envelope["members"]).items()
        }
        roles = {
            str(n): tuple(str(p) for p in perms) for n, perms in dict(envelope["roles"]).items()
        }
        settings = dict(envelope.get("settings") or {})
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"{label}: malformed policy ({exc})") from None
    return Policy(
        version=int(envelope["version"]),
        members=members,
        roles=roles,
        settings=settings,
        hash=value_hash(envelope),
        signed_by=str(envelope.get("signed_by", "")),
        gates=_gates_from(envelope.get("gates"), label),
    )


def _gates_from(section: Any, label: str) -> dict[str, tuple[str, ...]]:
    """The `gates` of an envelope: {alias: [check, ...]} (absent: none)."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise PolicyError(f"{label}: malformed policy ('gates' must map an alias to checks)")
    for alias, checks in section.items():
        if not _GATE_ALIAS.fullmatch(str(alias)) or not _is_check_list(checks):
            raise PolicyError(
                f"{label}: malformed policy (gates of {alias!r} must be a list of checks)"
            )
    return {str(alias): tuple(checks) for alias, checks in section.items()}


def _is_check_list(checks: Any) -> bool:
    return isinstance(checks, list) and all(isinstance(c, str) and c.strip() for c in checks)


def _verify_signature(envelope: dict[str, Any], authority: Policy, label: str) -> None:
    from .keys import verify_signature

    signer = (
        authority.member_for(str(envelope.get("signed_by", "")))
        if envelope.get("signed_by")
        else None
    )
    if signer is None:
        raise PolicyError(
            f"{label}: signed by {envelope.get('signed_by')!r}, "
            "who is not a member of the policy it changes"
        )
    if not authority.allows(signer.fingerprint, "admin"):
        raise PolicyError(
            f"{label}: signed by {signer.name} ({signer.fingerprint}), who is not an admin"
        )
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    if not verify_signature(
        signer.key, canonical_json(unsigned), str(envelope.get("signature", ""))
    ):
        raise PolicyError(
            f"{label}: the signature of {signer.name} does not match the content "
            "(edited by hand?); restore the policy files from git and change them "
            "with 'llmpipe policy ...'"
        )


def _check_yaml_matches(yaml_path: str, last: dict[str, Any]) -> None:
    import yaml

    try:
        with open(yaml_path, encoding="utf-8") as handle:
            current = yaml.safe_load(handle)
    except FileNotFoundError:
        raise PolicyError(f"{yaml_path} is missing: restore it from git") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{yaml_path} is not valid YAML: {exc}") from None
    if current != last:
        fields = sorted(
            k for k in set(last) | set(current or {}) if (current or {}).get(k) != last.get(k)
        )
        raise PolicyError(
            f"{yaml_path} differs from signed version {last['version']} in policy.log "
            f"(fields: {', '.join(fields)}): it was edited by hand. Undo the edit "
            "(git checkout -- .llmpipe/policy.yaml) and use 'llmpipe policy ...' instead"
        )


# Changing


PolicyEdit = Callable[[dict[str, Any]], None]


def init_policy(root: str, key: SigningKey, name: str) -> Policy:
    """Version 1: `key` becomes the first member, named `name`, with the admin role."""
    from .rootpin import refuse_if_pinned

    _check_name(name, "member")
    _, log_path = policy_paths(root)
    with _policy_lock(root):
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
    with _policy_lock(root):
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
    with _policy_lock(root):
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
    from .rootpin import remember

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
    yaml_path, log_path = policy_paths(root)
    append_durably(log_path, canonical_json(envelope) + b"\n")
    _write_yaml(yaml_path, envelope)
    remember(root, [*history, envelope], policy)
    return policy


def _write_yaml(path: str, envelope: dict[str, Any]) -> None:
    import yaml

    text = _YAML_HEADER.format(version=envelope["version"]) + yaml.safe_dump(
        envelope, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000
    )
    atomic_write_text(path, text)


def _policy_lock(root: str) -> AbstractContextManager[None]:
    # Serializes read-verify-append, so two admins changing the policy at once
    # make versions n+1 and n+2 instead of two conflicting n+1.
    return locked(os.path.join(root, ".llmpipe", "tmp", "policy.lock"))


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise PolicyError(
            f"'{name}' is not a valid {what} name: letters, digits, '.', '_', '@', '-'"
        )


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


# Edits (each returns a function for change_policy)


def add_member(name: str, public_key: str, roles: tuple[str, ...] = ()) -> PolicyEdit:
    from .keys import public_key_bytes

    _check_name(name, "member")
    public_key_bytes(public_key)

    def edit(body: dict[str, Any]) -> None:
        if name in body["members"]:
            raise PolicyError(f"'{name}' is already a member")
        for member, entry in body["members"].items():
            if entry["key"] == public_key:
                raise PolicyError(f"that key already belongs to member '{member}'")
        _check_roles_exist(body, roles)
        body["members"][name] = {"key": public_key, "roles": list(roles)}

    return edit


def remove_member(name: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        _member(body, name)
        del body["members"][name]

    return edit


def grant(name: str, role: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        member = _member(body, name)
        _check_roles_exist(body, (role,))
        if role in member["roles"]:
            raise PolicyError(f"{name} already has the role '{role}'")
        member["roles"] = [*member["roles"], role]

    return edit


def revoke(name: str, role: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        member = _member(body, name)
        if role not in member["roles"]:
            raise PolicyError(
                f"{name} does not have the role '{role}' "
                f"(roles: {', '.join(member['roles']) or 'none'})"
            )
        member["roles"] = [r for r in member["roles"] if r != role]

    return edit


def set_role(role: str, permissions: tuple[str, ...]) -> PolicyEdit:
    _check_name(role, "role")

    def edit(body: dict[str, Any]) -> None:
        body["roles"][role] = sorted(set(permissions))

    return edit


def set_setting(name: str, value: Any) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        body["settings"][name] = value

    return edit


def set_gates(alias: str, checks: tuple[str, ...]) -> PolicyEdit:
    """Make `checks` the gates of promotions to `alias` (none: remove its gates).

    Only the form is checked here; the registry's expression parser checks
    each check's syntax before the edit (the CLI does).
    """
    if not _GATE_ALIAS.fullmatch(alias):
        raise PolicyError(
            f"'{alias}' is not a valid alias name: a letter or digit, then letters, "
            "digits, '_', '-'"
        )
    if checks and not _is_check_list(list(checks)):
        raise PolicyError("a gate must be a non-empty check, e.g. 'metrics.accuracy >= 0.8'")

    def edit(body: dict[str, Any]) -> None:
        gates = dict(body.get("gates") or {})
        if checks:
            gates[alias] = list(checks)
        elif alias not in gates:
            raise PolicyError(f"'{alias}' has no gates to remove")
        else:
            del gates[alias]
        body.pop("gates", None)
        if gates:
            body["gates"] = gates

    return edit


def _member(body: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in body["members"]:
        known = ", ".join(sorted(body["members"])) or "none"
        raise PolicyError(f"no member named '{name}' (members: {known})")
    return body["members"][name]


def _check_roles_exist(body: dict[str, Any], roles: tuple[str, ...]) -> None:
    for role in roles:
        if role not in body["roles"]:
            raise PolicyError(f"no role named '{role}' (roles: {', '.join(sorted(body['roles']))})")


# Enforcement


def require(repo: Any, action: str, key: SigningKey | None = None) -> AccessDecision:
    """Allow `action` for the current key (or `key`), or raise AccessError.

    A project without a policy allows everything (it has not opted into access
    control). The AccessError carries the action and the reason; the audited
    verb that asked (see `ops.audit`) records the refusal.
    """
    root = _root_of(repo)
    check_action(action)
    if not policy_in_force(root):
        return AccessDecision(True, action, "this project has no access policy")
    policy = load_policy(root)
    who = key.fingerprint if key is not None else current_fingerprint()
    decision = policy.decide(who, action)
    if not decision.allowed:
        raise AccessError(f"'{action}' refused: {decision.reason}", action, decision.reason)
    return decision


def current_fingerprint(passphrase: PassphraseSource | None = None) -> str | None:
    """Fingerprint of the current key, derived from the private key itself.

    Never from the `.pub` file beside it, which anyone can overwrite. An
    encrypted key needs its passphrase (`$LLMPIPE_KEY_PASSPHRASE` or `passphrase`).
    """
    from .keys import has_key, load_key

    if not has_key():
        return None
    return load_key(passphrase=passphrase).fingerprint
