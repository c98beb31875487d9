"""The audit trail: append-only, hash-chained, signed records of what was done, by whom.

Layout under `.llmpipe/audit/` (ignored by git; shared through the remote):

- `<chain>.jsonl`: one chain of records, one canonical-JSON record per line.
  Every clone writes its own chain (its id is in `LOCAL`); records pulled
  from other clones keep their own chain files, so merging is a union of
  chains and never rewrites a record.
- `<chain>.head`: a signed statement "chain X has N records, the last with
  hash H", rewritten after each append; it is what reveals truncation.
- `lock`: the flock that serializes appends of concurrent processes.

A record: `chain`, `seq` (0, 1, …), `prev` (sha256 of the previous line),
`time`, `actor` (key fingerprint, or "unsigned"), `actor_key`, `actor_member`
(the access-policy member holding that key, when a policy is in force),
`actor_name` (git identity, display only), `command`, `args`, `targets` [{path, hash}],
`result` (ok, failed, refused), `exit`, `error`, and `sig`: the actor's
ed25519 signature of the record without `sig`. A record's hash is sha256
of its line.

Without a key, records are written unsigned (`actor: "unsigned"`); `verify`
reports them, and fails on them when asked to require signatures.

The project's log (`.llmpipe/audit/` of a project) also has a witness
(`security.witness`): this clone remembers how far it has seen each chain,
so a chain cut and re-headed (records dropped, a new head signed) fails
`verify` and a pull that would leave it shorter is refused.

Modules: `log` (the directory: append, read), `verify` (check every chain)
and `merge` (the union of two copies, for pull).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .log import UNSIGNED, AuditLog, audit_dir, chain_log, record_hash, signing_key_or_none

if TYPE_CHECKING:
    from .merge import MergeResult, merge_directory, merge_logs
    from .verify import Problem, VerifyReport, verify_log

# Appending a record (every audited command) needs only `log`: the others load when used.
_LAZY = {
    "MergeResult": "merge",
    "merge_directory": "merge",
    "merge_logs": "merge",
    "Problem": "verify",
    "VerifyReport": "verify",
    "verify_log": "verify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "UNSIGNED",
    "AuditLog",
    "MergeResult",
    "Problem",
    "VerifyReport",
    "audit_dir",
    "chain_log",
    "merge_directory",
    "merge_logs",
    "record_hash",
    "signing_key_or_none",
    "verify_log",
]
