"""The policy's root of trust: which key it is rooted at, and that it never goes back.

Version 1 of the policy is signed by its root key; the root moves only by a
rotation version (field `root`) that the current root signed, which
`chain.verify_chain` checks. Two pins name the root:

- committed: `.llmpipe/root.yaml`, written by every policy change; reviewed
  like code, it tells even a fresh clone that the project has a policy and
  which key it must be rooted at;
- this clone's own (`witness.Witness.root`), remembered on first sight.

A history none of whose roots is a pin was replaced wholesale; a policy log
that diverges from what this clone saw was rewritten; a missing policy where a
pin exists (and this clone kept no copy) was deleted. Each is a PolicyError
that says how to restore it.

An older policy log that is the beginning of the history this clone verified
(an older commit checked out, or a commit that put back older policy files) is
not an error: the newest history this clone kept stays in force, so old commits
can be rebuilt and pulled, and putting back an old policy restores no rights.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ...errors import PolicyError
from ...fsutil import atomic_write_text
from ..canonical import value_hash
from ..witness import Log, Mark, Witness
from .store import POLICY_FILE, POLICY_LOG, has_policy

if TYPE_CHECKING:
    from .model import Policy

ROOT_FILE = "root.yaml"
POLICY_LOG_ID = "policy"
_ROOT_HEADER = (
    "# The key the access policy is rooted at (the signer of policy.log version 1, or of\n"
    "# the last 'llmpipe policy rotate-root'). Written by 'llmpipe policy ...'; commit it.\n"
)
_RESTORE = (
    "git checkout <the commit you trust> -- .llmpipe/policy.log .llmpipe/policy.yaml; "
    "'git log -- .llmpipe/policy.log' lists the candidates"
)


def policy_log_name() -> Log:
    return Log(POLICY_LOG_ID, f".llmpipe/{POLICY_LOG}", "version", first_number=1, restore=_RESTORE)


def root_file(root: str) -> str:
    return os.path.join(root, ".llmpipe", ROOT_FILE)


def committed_root(root: str) -> str | None:
    """The fingerprint pinned in `.llmpipe/root.yaml`, or None when there is no such file."""
    from ...yamlio import load_yaml_file

    path = root_file(root)
    try:
        data = load_yaml_file(path, error=PolicyError)
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("root"), str):
        raise PolicyError(f"{path}: expected 'root: SHA256:...'; restore it from git")
    return data["root"]


def write_committed_root(root: str, fingerprint: str) -> None:
    if committed_root(root) != fingerprint:
        atomic_write_text(root_file(root), f"{_ROOT_HEADER}root: '{fingerprint}'\n")


def pinned_root(root: str, trust: Witness | None = None) -> tuple[str, str] | None:
    """(fingerprint, where it is pinned) when the project is known to have a policy."""
    committed = committed_root(root)
    if committed is not None:
        return committed, f".llmpipe/{ROOT_FILE} (committed)"
    local = (trust or Witness.of(root)).root()
    return (local, "this clone's memory") if local is not None else None


def missing_policy_error(root: str) -> PolicyError | None:
    """The error for a project whose policy files are gone although a root is pinned."""
    pinned = pinned_root(root)
    if pinned is None:
        return None
    fingerprint, where = pinned
    return PolicyError(
        f"the access policy is missing (.llmpipe/{POLICY_FILE} and .llmpipe/{POLICY_LOG}), "
        f"but this project has one: its root key {fingerprint} is pinned in {where}. "
        "Deleting the policy does not turn access control off. Restore both files: "
        "git checkout -- .llmpipe/policy.yaml .llmpipe/policy.log, or, if a commit deleted "
        "them, git checkout <that commit>~1 -- .llmpipe/policy.yaml .llmpipe/policy.log "
        "(git log -- .llmpipe/policy.log finds it)"
    )


def refuse_if_pinned(root: str) -> None:
    """For `policy init`: a project that had a policy restores it instead of starting anew."""
    pinned = pinned_root(root)
    if pinned is not None:
        raise PolicyError(
            f"this project had an access policy (its root key {pinned[0]} is pinned in "
            f"{pinned[1]}): restore .llmpipe/policy.yaml and .llmpipe/policy.log from git "
            "instead of starting a new one"
        )


def newest_known(
    trust: Witness, workspace: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """The history this clone kept, when the workspace's is only its beginning (or absent).

    None when the workspace's history is as new as the kept one or newer, when
    nothing was kept, or when the two diverge (`check_history` refuses that).
    """
    kept = trust.kept(POLICY_LOG_ID)
    if not kept:
        return None
    if workspace is None:
        return kept
    ours, theirs = _hashes(workspace), _hashes(kept)
    if len(ours) < len(theirs) and theirs[: len(ours)] == ours:
        return kept
    return None


def check_history(
    root: str, trust: Witness, envelopes: list[dict[str, Any]], policy: Policy, seen: Mark | None
) -> None:
    """Refuse a verified policy history that a pin or this clone's mark contradicts.

    `seen` is the policy log's mark, read before the log was. On success the
    mark grows to the log, the log is kept as this clone's newest copy, and the
    current root is pinned in this clone.
    """
    _check_pin(policy, committed_root(root), f"the committed .llmpipe/{ROOT_FILE}")
    _check_pin(policy, trust.root(), "this clone")
    hashes = _hashes(envelopes)
    fault = trust.observe(policy_log_name(), hashes, seen, root=policy.root, keep=envelopes)
    if fault is not None:
        raise PolicyError(fault)


def remember(root: str, envelopes: list[dict[str, Any]], policy: Policy) -> None:
    """After a new version was written: update the committed pin and this clone's memory."""
    write_committed_root(root, policy.root)
    Witness.of(root).observe(
        policy_log_name(), _hashes(envelopes), None, root=policy.root, keep=envelopes
    )


def _hashes(envelopes: list[dict[str, Any]]) -> list[str]:
    return [value_hash(envelope) for envelope in envelopes]


def _check_pin(policy: Policy, pin: str | None, source: str) -> None:
    if pin is None or pin in policy.roots:
        return
    now = f" (rotated since to {policy.root})" if len(policy.roots) > 1 else ""
    accept = (
        "run 'llmpipe trust accept root'"
        if source == "this clone"
        else f"commit the new root in .llmpipe/{ROOT_FILE}"
    )
    raise PolicyError(
        f".llmpipe/{POLICY_LOG} is rooted at {policy.roots[0]}{now}, but {source} pins the "
        f"root key {pin}: the whole policy history was replaced by one another key signed. "
        "A root moves only by 'llmpipe policy rotate-root', signed by the old root. Restore "
        f"the policy from git ({_RESTORE}); or, if the new history is intended and "
        f"reviewed, {accept}"
    )


def in_force(root: str) -> bool:
    """Whether the project has a policy to enforce (see `load.policy_in_force`)."""
    if has_policy(root) or Witness.of(root).kept(POLICY_LOG_ID):
        return True
    error = missing_policy_error(root)
    if error is not None:
        raise error
    return False
