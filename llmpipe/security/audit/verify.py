"""Verifying an audit directory: every chain, record by record, against its head and the witness.

Each problem names the first bad record of its chain: a record edited,
moved, inserted, removed or forged; a chain cut off its end (its head names
more records) or rewound behind what this clone has seen.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import LlmpipeError
from ..canonical import canonical_json, load_json, sha256_hex
from ..keys import fingerprint, verify_signature
from ..witness import Mark
from .log import HEAD_SUFFIX, UNSIGNED, AuditLog, chain_log, record_hash, vanished_chains


@dataclass(frozen=True)
class Problem:
    chain: str
    seq: int | None  # the record named, when there is one
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"chain {self.chain}"
        if self.seq is not None:
            where += f", record {self.seq}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


@dataclass
class VerifyReport:
    chains: int = 0
    records: int = 0
    unsigned: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_log(
    log: AuditLog, require_signed: bool = False, known_keys: Collection[str] | None = None
) -> VerifyReport:
    """Check every chain of `log`; each problem names the first bad record of its chain.

    Records signed by a key outside `known_keys` (when given) are warnings, and
    so are records naming another member than the one `known_keys` (when a
    mapping of fingerprint to member name) gives their key to;
    unsigned records are problems only with `require_signed`. A chain the
    log's witness has seen further (or whose file is gone) is a problem.
    """
    report = VerifyReport()
    seen = log.witness.marks() if log.witness else {}  # before the chains are read
    for chain in log.chain_ids():
        report.chains += 1
        with log.reading():
            hashes = _verify_chain(log, chain, report, require_signed, known_keys)
        if hashes is not None:
            _check_seen(log, chain, hashes, seen.get(chain_log(chain).id), report)
    for chain in vanished_chains(seen, log.chain_ids()):
        report.chains += 1
        _check_seen(log, chain, [], seen[chain_log(chain).id], report)
    return report


def _check_seen(
    log: AuditLog, chain: str, hashes: list[str], seen: Mark | None, report: VerifyReport
) -> None:
    if log.witness is None:
        return
    fault = log.witness.observe(chain_log(chain), hashes, seen)
    if fault is not None:
        report.problems.append(Problem(chain, None, None, fault))


def _verify_chain(
    log: AuditLog,
    chain: str,
    report: VerifyReport,
    require_signed: bool,
    known: Collection[str] | None,
) -> list[str] | None:
    """Check one chain into `report`; the hashes of its records when it has no problem."""
    with open(log.chain_path(chain), "rb") as handle:
        data = handle.read()
    lines = data.split(b"\n")
    partial = lines.pop()  # b"" when the file ends with a newline
    previous: dict[str, Any] | None = None
    unsigned: list[int] = []  # line numbers
    for number, raw in enumerate(lines, 1):
        record, problem = _check_record(chain, number, raw, previous)
        if problem is not None:
            report.problems.append(problem)
            return None
        previous = record
        report.records += 1
        if previous["actor"] == UNSIGNED:
            report.unsigned += 1
            unsigned.append(number)
        elif known is not None:
            _check_known(chain, previous, known, report)
    if partial:
        report.problems.append(
            Problem(
                chain,
                len(lines),
                len(lines) + 1,
                "incomplete last line: the file was truncated or a write was interrupted",
            )
        )
        return None
    problems = len(report.problems)
    _check_head(log, chain, previous, report)
    if len(report.problems) != problems:
        return None
    if require_signed and unsigned:
        report.problems.append(_unsigned_problem(chain, unsigned))
    # A canonical line is the record's canonical JSON, so its hash is the record's.
    return [sha256_hex(raw) for raw in lines]


def _check_known(
    chain: str, record: dict[str, Any], known: Collection[str], report: VerifyReport
) -> None:
    actor, where = record["actor"], f"chain {chain}, record {record['seq']}"
    if actor not in known:
        report.warnings.append(
            f"{where}: signed by {actor}, a key that is not a member of the access policy"
        )
        return
    claimed = record.get("actor_member")
    holder = known.get(actor) if isinstance(known, Mapping) else None
    if claimed is not None and holder is not None and claimed != holder:
        report.warnings.append(
            f"{where}: names member '{claimed}', but the policy gives its key to '{holder}'"
        )


def _unsigned_problem(chain: str, numbers: list[int], shown: int = 10) -> Problem:
    """One problem for every unsigned record of a chain: how many, and which (seq = line - 1)."""
    listed = ", ".join(str(n - 1) for n in numbers[:shown])
    more = f" and {len(numbers) - shown} more" if len(numbers) > shown else ""
    return Problem(
        chain,
        numbers[0] - 1,
        numbers[0],
        f"is unsigned, and signatures are required: {len(numbers)} unsigned record(s) in this "
        f"chain (records {listed}{more})",
    )


def _check_record(
    chain: str, number: int, raw: bytes, previous: dict[str, Any] | None
) -> tuple[dict[str, Any], None] | tuple[None, Problem]:
    """The record on line `number` (parsed once), or the first problem with it."""
    expected_seq = 0 if previous is None else previous["seq"] + 1
    try:
        record = load_json(raw)
    except ValueError:
        return None, Problem(chain, expected_seq, number, "not valid JSON: the record was edited")
    if not isinstance(record, dict) or canonical_json(record) != raw:
        return None, Problem(
            chain, expected_seq, number, "not in canonical form: the record was edited"
        )
    problem = _check_linked(chain, number, record, previous, expected_seq)
    return (record, None) if problem is None else (None, problem)


def _check_linked(
    chain: str,
    number: int,
    record: dict[str, Any],
    previous: dict[str, Any] | None,
    expected_seq: int,
) -> Problem | None:
    """Where the record breaks the chain: wrong chain, seq, prev hash, or signature."""
    seq = record.get("seq")
    if record.get("chain") != chain:
        return Problem(
            chain, seq, number, f"belongs to chain {record.get('chain')!r}: it was moved here"
        )
    if seq != expected_seq:
        return Problem(
            chain,
            seq,
            number,
            (
                f"has seq {seq} where {expected_seq} was expected: records were deleted, "
                "inserted or reordered here"
            ),
        )
    expected_prev = None if previous is None else record_hash(previous)
    if record.get("prev") != expected_prev:
        return Problem(
            chain,
            seq,
            number,
            (
                f"does not follow record {expected_seq - 1} (its prev hash differs): a record "
                "before it was changed, replaced or removed"
            ),
        )
    return _check_signature(chain, number, record)


def _check_signature(chain: str, number: int, record: dict[str, Any]) -> Problem | None:
    """A signature that does not verify; an unsigned record is counted by the caller."""
    seq = record["seq"]
    if record.get("actor") == UNSIGNED and not record.get("actor_key") and not record.get("sig"):
        return None
    key = record.get("actor_key")
    try:
        if not key or fingerprint(key) != record.get("actor"):
            return Problem(chain, seq, number, "its actor does not match its actor_key")
    except LlmpipeError:
        return Problem(chain, seq, number, "its actor_key is not a valid public key")
    body = {k: v for k, v in record.items() if k != "sig"}
    if not verify_signature(key, canonical_json(body), str(record.get("sig") or "")):
        return Problem(
            chain,
            seq,
            number,
            (f"bad signature: not signed by its actor {record['actor']} (edited or forged)"),
        )
    return None


def _check_head(
    log: AuditLog, chain: str, last: dict[str, Any] | None, report: VerifyReport
) -> None:
    head = log.read_head(chain)
    if last is None:
        if head:
            report.problems.append(
                Problem(
                    chain, None, None, "the chain is empty but its head names records: truncated"
                )
            )
        return
    if head is None:
        report.problems.append(
            Problem(
                chain, None, None, f"{chain}{HEAD_SUFFIX} is missing: cannot rule out truncation"
            )
        )
        return
    seq = head.get("seq")
    if not isinstance(seq, int) or head.get("chain") != chain:
        report.problems.append(Problem(chain, None, None, "the head file is malformed"))
        return
    if seq > last["seq"]:
        report.problems.append(
            Problem(
                chain,
                last["seq"] + 1,
                None,
                (
                    f"missing: the log ends at record {last['seq']} but its head says {seq} was "
                    "written (records were cut off the end)"
                ),
            )
        )
        return
    named = log.read_chain(chain)[seq]
    if head.get("hash") != record_hash(named):
        report.problems.append(
            Problem(chain, seq, seq + 1, "differs from the hash its head recorded")
        )
        return
    if named.get("actor_key"):
        unsigned = {k: v for k, v in head.items() if k != "sig"}
        if head.get("actor") != named["actor"] or not verify_signature(
            named["actor_key"], canonical_json(unsigned), str(head.get("sig") or "")
        ):
            report.problems.append(
                Problem(
                    chain, None, None, "the head is not signed by the actor of the record it names"
                )
            )
