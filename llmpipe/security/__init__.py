"""Identities (ed25519 signing keys), the signed access policy and the audit trail.

`keys` finds, creates and loads signing keys; `policy` reads and changes the
signed, hash-chained `.llmpipe/policy.yaml`; `audit` appends to and verifies
the hash-chained audit log. `cryptography` is imported only when a key is
loaded or a signature checked, so commands that do neither pay nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AccessDecision", "Policy", "load_policy", "require"]


def __getattr__(name: str) -> Any:
    # Lazy: the audit hook of every command imports this package, and only
    # policy work should pay for loading the policy module.
    if name in __all__:
        from . import policy

        return getattr(policy, name)
    raise AttributeError(name)
