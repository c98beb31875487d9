"""The model registry: versions, aliases, gated promotion, rollback, deploy, monitoring.

Every change is an event in an append-only, hash-chained, signed log (see
`events` and `storage`); the registry's state (versions, aliases and their
history) is derived by replaying the log (`state`). `ops` registers,
promotes, rolls back and deprecates; `deploy` writes a version's files and
model card to a folder or any storage location (`location`, `llmpipe.storage`);
`monitor` compares fresh metrics with those recorded at registration. The CLI
lives in `llmpipe/cli/registry.py`, `deploy.py` and `monitor.py`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RegistryState", "open_registry", "read_state"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not pull in the storage or crypto code.
    if name == "RegistryState":
        from .state import RegistryState

        return RegistryState
    if name in ("open_registry", "read_state"):
        from . import storage

        return getattr(storage, name)
    raise AttributeError(name)
