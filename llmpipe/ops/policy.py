"""The access policy's verbs: create it, change it, move its root, show it, check an action.

Each is audited under the command it was invoked as (the CLI passes `policy grant`,
`policy set-gates`, …); the policy itself lives in `llmpipe.security.policy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..security.policy.access import current_fingerprint
from ..security.policy.change import change_policy, init_policy
from ..security.policy.change import rotate_root as rotate
from ..security.policy.edits import PolicyEdit
from ..security.policy.load import load_policy, policy_in_force
from ..security.policy.model import AccessDecision, Policy, check_action
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project
    from ..security.keys import PassphraseSource, SigningKey


@audited("policy init")
def init(project: Project, key: SigningKey, name: str) -> Policy:
    """Version 1: `key` becomes the first admin and the policy's root."""
    return init_policy(project.root, key, name)


@audited("policy")
def change(project: Project, key: SigningKey, edit: PolicyEdit) -> Policy:
    """Apply `edit` (add-member, grant, set-gates, …) as a new version signed by `key`."""
    return change_policy(project.root, key, edit)


@audited("policy rotate-root")
def rotate_root(project: Project, key: SigningKey, new_root: str) -> Policy:
    """Move the root to the admin `new_root`; only the current root key may sign it."""
    return rotate(project.root, key, new_root)


@audited("policy show")
def show(project: Project) -> Policy:
    """The policy in force, verified."""
    return load_policy(project.root)


def describe_check(decision: AccessDecision) -> tuple[Targets, Outcome]:
    if decision.allowed:
        return [], Outcome()
    return [], Outcome("failed", 1, decision.reason)


@audited("policy check", describe=describe_check)
def check(
    project: Project,
    action: str,
    who: str | None = None,
    passphrase: PassphraseSource | None = None,
) -> AccessDecision:
    """Whether `who` (default: the current key, from its private key) may do `action`."""
    check_action(action)
    if not policy_in_force(project.root):
        return AccessDecision(
            True, action, f"this project has no access policy ('{action}' is not restricted)"
        )
    current = load_policy(project.root)
    # Who you are comes from your private key, never from the .pub file beside it.
    return current.decide(who or current_fingerprint(passphrase), action)
