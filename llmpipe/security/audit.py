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
`time`, `actor` (key fingerprint, or "unsigned"), `actor_key`, `actor_name`
(git identity, display only), `command`, `args`, `targets` [{path, hash}],
`result` (ok, failed, refused), `exit`, `error`, and `sig`: the actor's
ed25519 signature of the record without `sig`. A record's hash is sha256
of its line.

Without a key, records are written unsigned (`actor: "unsigned"`); `verify`
reports them, and fails on them when asked to require signatures.

The project's log (`.llmpipe/audit/` of a project) also has a witness
(`security.witness`): this clone remembers how far it has seen each chain,
so a chain cut and re-headed (records dropped, a new head signed) fails
`verify` and a pull that would leave it shorter is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import AuditError, LlmpipeError
from ..fsutil import append_durably, atomic_write_bytes, atomic_write_text, locked
from .canonical import canonical_json, sha256_hex

if TYPE_CHECKING:
    from .keys import PassphraseSource, SigningKey
    from .witness import Log, Mark, Witness

UNSIGNED = "unsigned"
_CHAIN_SUFFIX = ".jsonl"
_HEAD_SUFFIX = ".head"
_MARK_PREFIX = "audit:"  # a chain's mark in the witness: audit:<chain>


def audit_dir(root: str) -> str:
    return os.path.join(root, ".llmpipe", "audit")


def record_hash(record: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(record)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def signing_key_or_none(passphrase: PassphraseSource | None = None) -> SigningKey | None:
    """The current signing key, or None (records are then unsigned) when there is none."""
    return _try_key(None, passphrase)


def _try_key(
    key: SigningKey | None, passphrase: PassphraseSource | None = None
) -> SigningKey | None:
    """The key to sign with, or None (unsigned) when there is no usable key."""
    if key is not None:
        return key
    from .keys import has_key, load_key

    if not has_key():
        return None
    try:
        return load_key(passphrase=passphrase)
    except LlmpipeError:
        return None


# The log


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


class AuditLog:
    """The audit directory of one project.

    `witness` defaults to the project's when `directory` is a project's
    `.llmpipe/audit` (None elsewhere, e.g. a pulled copy being merged).
    """

    def __init__(self, directory: str, witness: Witness | None = None) -> None:
        self.directory = directory
        self.witness = witness if witness is not None else _project_witness(directory)

    # writing

    def append(self, entry: Mapping[str, Any], key: SigningKey | None) -> dict[str, Any]:
        """Append one record (signed by `key`, or unsigned) to this clone's chain.

        Read-last-record, append, fsync and head update happen under an flock,
        so concurrent appenders never lose a record or fork the chain.
        """
        actor_name = _display_name()
        with self._locked():
            chain = self._local_chain()
            path = self._chain_path(chain)
            last = _last_record(path)
            record = {
                **entry,
                "chain": chain,
                "seq": 0 if last is None else int(last["seq"]) + 1,
                "prev": None if last is None else record_hash(last),
                "time": _now(),
                "actor": key.fingerprint if key else UNSIGNED,
                "actor_key": key.public_key if key else None,
                "actor_name": actor_name,
            }
            record["sig"] = key.sign(canonical_json(record)) if key else None
            append_durably(path, canonical_json(record) + b"\n")
            self._write_head(chain, record, key)
            self._remember_append(chain, last, record)
        return record

    def _remember_append(
        self, chain: str, last: dict[str, Any] | None, record: dict[str, Any]
    ) -> None:
        """Grow this clone's mark of `chain` by the record just appended.

        A chain that was cut or rewritten keeps its old mark, so that `verify`
        still reports it; the record is written either way.
        """
        if self.witness is None:
            return
        from .witness import Mark

        log = chain_log(chain)
        before = None if last is None else Mark(int(last["seq"]) + 1, record_hash(last))
        after = Mark(int(record["seq"]) + 1, record_hash(record))
        with contextlib.suppress(LlmpipeError):
            if not self.witness.extend(log, before, after):
                hashes = [record_hash(r) for r in self.read_chain(chain)]
                self.witness.observe(log, hashes, self.witness.mark(log.id))

    def _write_head(self, chain: str, record: Mapping[str, Any], key: SigningKey | None) -> None:
        head: dict[str, Any] = {"chain": chain, "seq": record["seq"], "hash": record_hash(record)}
        head["actor"] = key.fingerprint if key else UNSIGNED
        head["sig"] = key.sign(canonical_json(head)) if key else None
        atomic_write_bytes(self._head_path(chain), canonical_json(head) + b"\n")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        with locked(os.path.join(self.directory, "lock")):
            yield

    def _ensure_dir(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        ignore = os.path.join(self.directory, ".gitignore")
        if not os.path.exists(ignore):
            # The trail travels through the remote, not git: branches and
            # checkouts would otherwise rewind it.
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write("*\n")

    def _local_chain(self) -> str:
        path = os.path.join(self.directory, "LOCAL")
        try:
            with open(path, encoding="utf-8") as handle:
                chain = handle.read().strip()
        except FileNotFoundError:
            chain = ""
        if not chain:
            import secrets
            import socket

            host = "".join(c for c in socket.gethostname().split(".")[0] if c.isalnum())[:16]
            chain = f"{host or 'host'}-{secrets.token_hex(6)}"
            atomic_write_text(path, chain + "\n")
        return chain

    def _chain_path(self, chain: str) -> str:
        return os.path.join(self.directory, chain + _CHAIN_SUFFIX)

    def _head_path(self, chain: str) -> str:
        return os.path.join(self.directory, chain + _HEAD_SUFFIX)

    # reading

    def chain_ids(self) -> list[str]:
        if not os.path.isdir(self.directory):
            return []
        return sorted(
            name[: -len(_CHAIN_SUFFIX)]
            for name in os.listdir(self.directory)
            if name.endswith(_CHAIN_SUFFIX)
        )

    def read_chain(self, chain: str) -> list[dict[str, Any]]:
        """The parsed records of one chain (unverified; malformed lines raise AuditError)."""
        records = []
        for number, raw in enumerate(_read_lines(self._chain_path(chain)), 1):
            try:
                records.append(json.loads(raw))
            except ValueError:
                raise AuditError(f"{self._chain_path(chain)}:{number}: not a JSON record") from None
        return records

    def records(self) -> list[dict[str, Any]]:
        """Every record of every chain, in time order (unverified)."""
        found = [r for chain in self.chain_ids() for r in self.read_chain(chain)]
        return sorted(
            found, key=lambda r: (str(r.get("time")), str(r.get("chain")), r.get("seq", 0))
        )

    def read_head(self, chain: str) -> dict[str, Any] | None:
        try:
            with open(self._head_path(chain), "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return None
        except ValueError:
            return {}

    # verifying

    def verify(
        self, require_signed: bool = False, known_keys: set[str] | None = None
    ) -> VerifyReport:
        """Check every chain; each problem names the first bad record of its chain."""
        report = VerifyReport()
        seen = self.witness.marks() if self.witness else {}  # before the chains are read
        for chain in self.chain_ids():
            report.chains += 1
            hashes = _verify_chain(self, chain, report, require_signed, known_keys)
            if hashes is not None:
                self._check_seen(chain, hashes, seen.get(chain_log(chain).id), report)
        for chain in _vanished(seen, self.chain_ids()):
            report.chains += 1
            self._check_seen(chain, [], seen[chain_log(chain).id], report)
        return report

    def _check_seen(
        self, chain: str, hashes: list[str], seen: Mark | None, report: VerifyReport
    ) -> None:
        if self.witness is None:
            return
        fault = self.witness.observe(chain_log(chain), hashes, seen)
        if fault is not None:
            report.problems.append(Problem(chain, None, None, fault))


def chain_log(chain: str) -> Log:
    """How the witness and its messages name one chain."""
    from .witness import Log

    return Log(
        _MARK_PREFIX + chain,
        "the chain",
        "record",
        restore="'llmpipe pull' merges the remote's copy back in",
    )


def _vanished(seen: Mapping[str, Mark], present: list[str]) -> list[str]:
    """Chains this clone has seen whose files are gone."""
    chains = (name[len(_MARK_PREFIX) :] for name in seen if name.startswith(_MARK_PREFIX))
    return sorted(chain for chain in chains if chain not in present)


def _project_witness(directory: str) -> Witness | None:
    parent = os.path.dirname(os.path.abspath(directory))
    if os.path.basename(os.path.abspath(directory)) != "audit":
        return None
    if os.path.basename(parent) != ".llmpipe":
        return None
    from .witness import Witness

    return Witness.of(os.path.dirname(parent))


def _display_name() -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "config", "--get-regexp", r"^user\.(name|email)$"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    values = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    name, email = values.get("user.name"), values.get("user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or email


def _last_record(path: str) -> dict[str, Any] | None:
    """The last complete record of a chain file, reading only its tail."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        chunk = 4096
        while True:
            start = max(0, size - chunk)
            tail = os.pread(fd, size - start, start)
            lines = [line for line in tail.split(b"\n")[:-1] if line]
            complete = len(lines) > 1 or start == 0
            if lines and complete:
                return json.loads(lines[-1])
            if start == 0:
                return None
            chunk *= 4
    except ValueError:
        raise AuditError(
            f"the last record of {path} is corrupt: run 'llmpipe audit verify'"
        ) from None
    finally:
        os.close(fd)


def _read_lines(path: str) -> list[bytes]:
    with open(path, "rb") as handle:
        data = handle.read()
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


def _verify_chain(
    log: AuditLog, chain: str, report: VerifyReport, require_signed: bool, known: set[str] | None
) -> list[str] | None:
    """Check one chain into `report`; the hashes of its records when it has no problem."""
    with open(log._chain_path(chain), "rb") as handle:
        data = handle.read()
    lines = data.split(b"\n")
    partial = lines.pop()  # b"" when the file ends with a newline
    previous: dict[str, Any] | None = None
    for number, raw in enumerate(lines, 1):
        problem = _check_record(chain, number, raw, previous, require_signed)
        if problem is not None:
            report.problems.append(problem)
            return None
        previous = json.loads(raw)
        report.records += 1
        if previous["actor"] == UNSIGNED:
            report.unsigned += 1
        elif known is not None and previous["actor"] not in known:
            report.warnings.append(
                f"chain {chain}, record {previous['seq']}: signed by {previous['actor']}, "
                "a key that is not a member of the access policy"
            )
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
    # A canonical line is the record's canonical JSON, so its hash is the record's.
    return [sha256_hex(raw) for raw in lines] if len(report.problems) == problems else None


def _check_record(
    chain: str, number: int, raw: bytes, previous: dict[str, Any] | None, require_signed: bool
) -> Problem | None:
    expected_seq = 0 if previous is None else previous["seq"] + 1
    try:
        record = json.loads(raw)
    except ValueError:
        return Problem(chain, expected_seq, number, "not valid JSON: the record was edited")
    if not isinstance(record, dict) or canonical_json(record) != raw:
        return Problem(chain, expected_seq, number, "not in canonical form: the record was edited")
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
    return _check_signature(chain, number, record, require_signed)


def _check_signature(
    chain: str, number: int, record: dict[str, Any], require_signed: bool
) -> Problem | None:
    from .keys import fingerprint, verify_signature

    seq = record["seq"]
    if record.get("actor") == UNSIGNED and not record.get("actor_key") and not record.get("sig"):
        if require_signed:
            return Problem(chain, seq, number, "is unsigned, and signatures are required")
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
    from .keys import verify_signature

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
                chain, None, None, f"{chain}{_HEAD_SUFFIX} is missing: cannot rule out truncation"
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


# Merging (for push/pull through a remote)


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
    report = source.verify()
    if not report.ok:
        raise AuditError(f"the incoming audit log fails verification: {report.problems[0]}")
    with destination._locked():
        seen = destination.witness.marks() if destination.witness else {}
        local = {c: destination.read_chain(c) for c in destination.chain_ids()}
        other = {c: source.read_chain(c) for c in source.chain_ids()}
        result = merge_logs(local, other)
        merged = {c: [record_hash(r) for r in rs] for c, rs in result.chains.items()}
        _refuse_rewound(merged, seen)
        for chain, count in result.added.items():
            path = destination._chain_path(chain)
            new_lines = b"".join(canonical_json(r) + b"\n" for r in result.chains[chain][-count:])
            append_durably(path, new_lines)
            _copy_head(source._head_path(chain), destination._head_path(chain))
        if destination.witness is not None:
            for chain, hashes in merged.items():
                log = chain_log(chain)
                destination.witness.observe(log, hashes, seen.get(log.id))
    return result.added


def _refuse_rewound(merged: Mapping[str, list[str]], seen: Mapping[str, Mark]) -> None:
    """AuditError when even the merged copy of a chain goes back from what was seen."""
    from .witness import rewound

    for chain in sorted(set(merged) | set(_vanished(seen, list(merged)))):
        log = chain_log(chain)
        fault = rewound(log, merged.get(chain, []), seen.get(log.id))
        if fault is not None:
            raise AuditError(f"audit chain {chain}: {fault}")


def _copy_head(source: str, destination: str) -> None:
    with open(source, "rb") as handle:
        atomic_write_bytes(destination, handle.read())
