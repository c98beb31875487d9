"""One project's audit directory: appending to this clone's chain, reading chains and heads.

Appends hold an flock (`lock`): the last record is read, the new one appended
and fsynced, the chain's signed head rewritten, and the witness's mark of the
chain grown, so concurrent appenders never lose a record or fork the chain.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ...errors import AuditError, LlmpipeError
from ...fsutil import append_durably, atomic_write_bytes, atomic_write_text, locked
from ..canonical import canonical_json, sha256_hex
from ..keys import has_key, load_key
from ..witness import Log, Mark, Witness

if TYPE_CHECKING:
    from ..keys import PassphraseSource, SigningKey

UNSIGNED = "unsigned"
HEAD_SUFFIX = ".head"
_CHAIN_SUFFIX = ".jsonl"
_MARK_PREFIX = "audit:"  # a chain's mark in the witness: audit:<chain>


def audit_dir(root: str) -> str:
    return os.path.join(root, ".llmpipe", "audit")


def record_hash(record: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(record)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def signing_key_or_none(passphrase: PassphraseSource | None = None) -> SigningKey | None:
    """The current signing key, or None (records are then unsigned) when there is none."""
    if not has_key():
        return None
    try:
        return load_key(passphrase=passphrase)
    except LlmpipeError:
        return None


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
        from ...scm import user_identity

        actor_name = user_identity()
        with self.lock():
            chain = self._local_chain()
            path = self.chain_path(chain)
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
        atomic_write_bytes(self.head_path(chain), canonical_json(head) + b"\n")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self._ensure_dir()
        with locked(os.path.join(self.directory, "lock")):
            yield

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock shared while a chain and its head are read together: an append
        (which holds it exclusively) is then wholly before or wholly after the read, and
        never seen as a head ahead of its chain. A log whose lock cannot be taken (a
        read-only copy) is read without it; a missing directory is not created."""
        with contextlib.ExitStack() as held:
            if os.path.isdir(self.directory):
                with contextlib.suppress(OSError):
                    held.enter_context(locked(os.path.join(self.directory, "lock"), shared=True))
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

    def chain_path(self, chain: str) -> str:
        return os.path.join(self.directory, chain + _CHAIN_SUFFIX)

    def head_path(self, chain: str) -> str:
        return os.path.join(self.directory, chain + HEAD_SUFFIX)

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
        for number, raw in enumerate(_read_lines(self.chain_path(chain)), 1):
            try:
                records.append(json.loads(raw))
            except ValueError:
                raise AuditError(f"{self.chain_path(chain)}:{number}: not a JSON record") from None
        return records

    def records(self) -> list[dict[str, Any]]:
        """Every record of every chain, in time order (unverified)."""
        found = [r for chain in self.chain_ids() for r in self.read_chain(chain)]
        return sorted(
            found, key=lambda r: (str(r.get("time")), str(r.get("chain")), r.get("seq", 0))
        )

    def read_head(self, chain: str) -> dict[str, Any] | None:
        try:
            with open(self.head_path(chain), "rb") as handle:
                return json.loads(handle.read())
        except FileNotFoundError:
            return None
        except ValueError:
            return {}


def chain_log(chain: str) -> Log:
    """How the witness and its messages name one chain."""
    return Log(
        _MARK_PREFIX + chain,
        "the chain",
        "record",
        restore="'llmpipe pull' merges the remote's copy back in",
    )


def vanished_chains(seen: Mapping[str, Mark], present: list[str]) -> list[str]:
    """Chains this clone has seen whose files are gone."""
    chains = (name[len(_MARK_PREFIX) :] for name in seen if name.startswith(_MARK_PREFIX))
    return sorted(chain for chain in chains if chain not in present)


def _project_witness(directory: str) -> Witness | None:
    parent = os.path.dirname(os.path.abspath(directory))
    if os.path.basename(os.path.abspath(directory)) != "audit":
        return None
    if os.path.basename(parent) != ".llmpipe":
        return None
    return Witness.of(os.path.dirname(parent))


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
