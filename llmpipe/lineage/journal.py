"""A cheap, crash-safe landing place for lineage records.

Writing one Parquet file per stage run would cost an import of pyarrow and two
fsyncs per stage. Instead each record is appended as one JSON line to the
journal of its batch the moment its stage ends. Journals become Parquet files
when a reader asks (`LineageStore.files()`), or once enough has gathered
(`compact_if_due`), so a small `repro` never pays for pyarrow. A journal left
behind by a killed process is converted the same way: no record is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from .record import RunRecord

if TYPE_CHECKING:
    from .store import LineageStore

JOURNAL_DIR = "pending"


def _encode(record: RunRecord) -> str:
    from .store import record_to_row

    row = record_to_row(record)
    row["started_at"] = record.started_at.isoformat()
    row["ended_at"] = record.ended_at.isoformat()
    return json.dumps(row, default=str)


def _decode(line: str) -> RunRecord:
    from .store import record_from_row

    row = json.loads(line)
    row["started_at"] = datetime.fromisoformat(row["started_at"])
    row["ended_at"] = datetime.fromisoformat(row["ended_at"])
    return record_from_row(row)


class Journal:
    """Records of one batch, one JSON line each; `commit()` moves them to Parquet."""

    def __init__(self, store: LineageStore, batch_id: str) -> None:
        directory = os.path.join(store.path, JOURNAL_DIR)
        os.makedirs(directory, exist_ok=True)
        self.store = store
        self.path = os.path.join(directory, f"{batch_id}.jsonl")
        self._mutex = threading.Lock()
        self._lock_fd = _hold_lock(self.path + ".lock")

    def write(self, record: RunRecord) -> None:
        line = _encode(record) + "\n"
        with self._mutex, open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def commit(self) -> None:
        """Move the records into Parquet now."""
        with self._mutex:
            commit_journal(self.store, self.path)
            self._release()

    def finish(self) -> None:
        """Close the batch; its records stay pending until a reader or `compact_if_due`."""
        with self._mutex:
            self._release()

    def _release(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path + ".lock")
            os.close(self._lock_fd)
            self._lock_fd = None


def _hold_lock(path: str) -> int:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def read_journal(path: str) -> list[RunRecord]:
    """Complete lines only: a line cut short by a crash is dropped."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n"):
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    records.append(_decode(line))
    return records


def commit_journal(store: LineageStore, path: str) -> None:
    if not os.path.exists(path):
        return
    store.append(read_journal(path))
    os.unlink(path)


def recover_journals(store: LineageStore, keep: str | None = None) -> None:
    """Turn journals of batches that are no longer running into Parquet."""
    directory = os.path.join(store.path, JOURNAL_DIR)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith(".jsonl") and path != keep and not _being_written(path):
            commit_journal(store, path)


# Pending journals are turned into Parquet once this much has gathered, so that a
# small repro does not pay for importing pyarrow, yet files stay few and large.
COMPACT_AT_BYTES = 256 * 1024
COMPACT_AT_FILES = 32


def compact_if_due(store: LineageStore) -> None:
    directory = os.path.join(store.path, JOURNAL_DIR)
    try:
        entries = [e for e in os.scandir(directory) if e.name.endswith(".jsonl")]
    except FileNotFoundError:
        return
    total = sum(entry.stat().st_size for entry in entries)
    if len(entries) >= COMPACT_AT_FILES or total >= COMPACT_AT_BYTES:
        recover_journals(store)


def _being_written(path: str) -> bool:
    # A running repro holds an flock on its journal's lock file.
    import fcntl

    lock_path = path + ".lock"
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(lock_path)
    return False
