"""Verifying a policy history: versions in order, hash links, admin signatures, root moves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...errors import PolicyError
from ..canonical import canonical_json, value_hash
from ..keys import verify_signature
from .model import GATE_ALIAS, Member, Policy, is_check_list


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
        current = policy_from(envelope, label)
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


def policy_from(envelope: dict[str, Any], label: str) -> Policy:
    """One version as a `Policy` (unverified); PolicyError naming `label` when malformed."""
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
        if not GATE_ALIAS.fullmatch(str(alias)) or not is_check_list(checks):
            raise PolicyError(
                f"{label}: malformed policy (gates of {alias!r} must be a list of checks)"
            )
    return {str(alias): tuple(checks) for alias, checks in section.items()}


def _verify_signature(envelope: dict[str, Any], authority: Policy, label: str) -> None:
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
