"""Enforcing the policy: may the current key do an action; a refusal is an AccessError."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import AccessError
from ..keys import has_key, load_key
from .load import load_policy, policy_in_force, root_of
from .model import AccessDecision, check_action

if TYPE_CHECKING:
    from ..keys import PassphraseSource, SigningKey


def require(repo: Any, action: str, key: SigningKey | None = None) -> AccessDecision:
    """Allow `action` for the current key (or `key`), or raise AccessError.

    A project without a policy allows everything (it has not opted into access
    control). The AccessError carries the action and the reason; the audited
    verb that asked (see `ops.audit`) records the refusal.
    """
    root = root_of(repo)
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
    if not has_key():
        return None
    return load_key(passphrase=passphrase).fingerprint
