"""Identities (ed25519 signing keys), the signed access policy and the audit trail.

`keys` finds, creates and loads signing keys; `policy` reads and changes the
signed, hash-chained `.llmpipe/policy.yaml`; `audit` appends to and verifies
the hash-chained audit log; `witness` is this clone's memory of how far it
has seen each log. `cryptography` is imported only when a key is loaded or
a signature checked, so commands that do neither pay nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name -> the module that defines it, imported on first use: the audit hook of
# every command imports this package, and only policy work should pay for
# loading the policy modules.
_LAZY = {
    "AccessDecision": ".policy.model",
    "Policy": ".policy.model",
    "load_policy": ".policy.load",
    "require": ".policy.access",
}

__all__ = ["AccessDecision", "Policy", "load_policy", "require"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)
