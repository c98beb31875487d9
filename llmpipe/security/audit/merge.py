"""Merging audit logs (for pull): the union of two copies' chains, never a changed record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import AuditError
from ...fsutil import append_durably, atomic_write_bytes
from ..canonical import canonical_json
from ..witness import Mark, rewound
from .log import AuditLog, chain_log, record_hash, vanished_chains
from .verify import verify_log


@dataclass(frozen=True)
class MergeResult:
    chains: dict[str, list[dict[str, Any]]]
    added: dict[str, int]  # chain -> records taken from `other`


def merge_logs(
    local: Mapping[str, Sequence[Mapping[str, Any]]],
    other: Mapping[str, Sequence[Mapping[str, Any]]],
) -> MergeResult:
    """Union of two sets of chains, matched by chain id and record hash.

    A chain present on both sides must be a prefix of the other (it has one
    writer, so honest copies never diverge); the longer one wins. Divergence
    raises AuditError naming the chain and the first differing record. Pure:
    the inputs are not modified and no record is ever changed.
    """
    merged: dict[str, list[dict[str, Any]]] = {c: [dict(r) for r in rs] for c, rs in local.items()}
    added: dict[str, int] = {}
    for chain, theirs in other.items():
        ours = merged.get(chain, [])
        shorter, longer = (ours, theirs) if len(ours) <= len(theirs) else (theirs, ours)
        for index, record in enumerate(shorter):
            if record_hash(record) != record_hash(longer[index]):
                raise AuditError(
                    f"audit chain {chain} diverges at record {index}: the two copies hold "
                    "different records (tampering, or one clone copied into two places); "
                    "run 'llmpipe audit verify' on both sides"
                )
        if len(theirs) > len(ours):
            merged[chain] = [dict(r) for r in theirs]
            added[chain] = len(theirs) - len(ours)
    return MergeResult(merged, added)


def merge_directory(target: str, incoming: str) -> dict[str, int]:
    """Merge the chains of the audit directory `incoming` into `target` (for pull).

    `incoming` is verified first (AuditError naming its first bad record);
    new records are appended, heads taken over. Returns records added per chain.
    """
    source, destination = AuditLog(incoming), AuditLog(target)
    report = verify_log(source)
    if not report.ok:
        raise AuditError(f"the incoming audit log fails verification: {report.problems[0]}")
    with destination.lock():
        seen = destination.witness.marks() if destination.witness else {}
        local = {c: destination.read_chain(c) for c in destination.chain_ids()}
        other = {c: source.read_chain(c) for c in source.chain_ids()}
        result = merge_logs(local, other)
        merged = {c: [record_hash(r) for r in rs] for c, rs in result.chains.items()}
        _refuse_rewound(merged, seen)
        for chain, count in result.added.items():
            path = destination.chain_path(chain)
            new_lines = b"".join(canonical_json(r) + b"\n" for r in result.chains[chain][-count:])
            append_durably(path, new_lines)
            _copy_head(source.head_path(chain), destination.head_path(chain))
        if destination.witness is not None:
            for chain, hashes in merged.items():
                log = chain_log(chain)
                destination.witness.observe(log, hashes, seen.get(log.id))
    return result.added


def _refuse_rewound(merged: Mapping[str, list[str]], seen: Mapping[str, Mark]) -> None:
    """AuditError when even the merged copy of a chain goes back from what was seen."""
    for chain in sorted(set(merged) | set(vanished_chains(seen, list(merged)))):
        log = chain_log(chain)
        fault = rewound(log, merged.get(chain, []), seen.get(log.id))
        if fault is not None:
            raise AuditError(f"audit chain {chain}: {fault}")


def _copy_head(source: str, destination: str) -> None:
    with open(source, "rb") as handle:
        atomic_write_bytes(destination, handle.read())
