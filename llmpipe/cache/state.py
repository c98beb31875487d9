"""The state DB: remembers the hash of a file by (inode, mtime, size).

An unchanged file is never hashed twice: callers stat first and ask the state.
A row is trusted only while the file's inode, `st_mtime_ns` and `st_size` all
match what was recorded, and only for the hash algorithm it was computed with.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Protocol

from ..fsutil import StatLike

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    inode INTEGER NOT NULL,
    name TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (inode, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS listing (
    root TEXT NOT NULL,
    name TEXT NOT NULL,
    blob BLOB NOT NULL,
    PRIMARY KEY (root, name)
)
"""
# SQLite's default limit on bound parameters is large now, but stay well below
# the historical 999 so old builds work too.
_QUERY_BATCH = 900
_FLUSH_EVERY = 1000
_UINT64 = 1 << 64


class StateDB(Protocol):
    """Seven small methods; `NoState` is the do-nothing implementation.

    A listing is an opaque blob kept per directory (llmpipe.cache.listing): the
    last stats and hashes of its files, read in one row instead of one per file.
    """

    def get(self, path: str, st: StatLike, name: str = "md5") -> str | None: ...

    def get_many(self, items: list[tuple[str, StatLike]], name: str = "md5") -> list[str | None]:
        """Hashes of (path, stat) items, None where unknown. Rows are keyed by inode: the
        path (absolute or relative to anything) does not take part in the lookup."""
        ...

    def set(self, path: str, st: StatLike, value: str, name: str = "md5") -> None: ...

    def set_many(self, items: list[tuple[str, StatLike, str]], name: str = "md5") -> None: ...

    def get_listing(self, root: str, name: str = "md5") -> bytes | None: ...

    def set_listing(self, root: str, blob: bytes, name: str = "md5") -> None: ...

    def close(self) -> None: ...


class NoState:
    """Remembers nothing: every lookup misses."""

    def get(self, path: str, st: StatLike, name: str = "md5") -> str | None:
        return None

    def get_many(self, items: list[tuple[str, StatLike]], name: str = "md5") -> list[str | None]:
        return [None] * len(items)

    def set(self, path: str, st: StatLike, value: str, name: str = "md5") -> None:
        pass

    def set_many(self, items: list[tuple[str, StatLike, str]], name: str = "md5") -> None:
        pass

    def get_listing(self, root: str, name: str = "md5") -> bytes | None:
        return None

    def set_listing(self, root: str, blob: bytes, name: str = "md5") -> None:
        pass

    def close(self) -> None:
        pass


def _inode_key(st: StatLike) -> int:
    # SQLite integers are signed 64-bit; some filesystems hand out larger inodes.
    ino = st.st_ino
    return ino - _UINT64 if ino >= _UINT64 >> 1 else ino


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, retrying while another process does the same.

    Two processes opening a new database at once (parallel sweep jobs) race on the
    switch, and SQLite answers "database is locked" at once instead of waiting
    for its busy timeout.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class SqliteState:
    """A `StateDB` in one SQLite file (WAL mode), shared by threads and processes.

    One connection guarded by a lock serves every thread; lookups are one query
    per batch of files. `set` buffers rows and writes them in one transaction
    every `_FLUSH_EVERY` rows and on `flush`/`close`.
    """

    def __init__(self, db_path: str, timeout: float = 30.0) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str], tuple[int, int, str]] = {}
        self._conn: sqlite3.Connection | None = self._connect(timeout)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.db_path, timeout=timeout, check_same_thread=False, isolation_level=None
        )
        _enable_wal(conn, timeout)
        # WAL + NORMAL: a power cut may lose the last rows, which only costs a rehash.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return conn

    def get(self, path: str, st: StatLike, name: str = "md5") -> str | None:
        """The recorded hash of the file with stat `st`, or None when unknown or stale."""
        return self.get_many([(path, st)], name)[0]

    def get_many(self, items: list[tuple[str, StatLike]], name: str = "md5") -> list[str | None]:
        """`get` for many files with one query per batch; results in input order.

        Batch by batch, so that no more than a batch of rows is held at once (a
        million-file directory would otherwise keep a million rows alive here).
        """
        self._require_open()  # a closed state is an error even for no files
        results: list[str | None] = []
        for start in range(0, len(items), _QUERY_BATCH):
            batch = items[start : start + _QUERY_BATCH]
            keys = [_inode_key(st) for _, st in batch]
            rows = self._lookup(keys, name)
            for key, (_, st) in zip(keys, batch, strict=True):
                row = rows.get(key)
                valid = row is not None and row[0] == st.st_mtime_ns and row[1] == st.st_size
                results.append(row[2] if valid else None)
        return results

    def _lookup(self, keys: list[int], name: str) -> dict[int, tuple[int, int, str]]:
        """The recorded rows of `keys` (at most `_QUERY_BATCH` of them), buffered ones too."""
        found: dict[int, tuple[int, int, str]] = {}
        marks = ",".join("?" * len(keys))
        query = (
            f"SELECT inode, mtime_ns, size, value FROM state WHERE name = ? AND inode IN ({marks})"
        )
        with self._lock:
            conn = self._require_open()
            for inode, mtime_ns, size, value in conn.execute(query, [name, *keys]):
                found[inode] = (mtime_ns, size, value)
            for key in keys:
                pending = self._pending.get((key, name))
                if pending is not None:
                    found[key] = pending
        return found

    def set(self, path: str, st: StatLike, value: str, name: str = "md5") -> None:
        """Record that the file with stat `st` hashes to `value` (buffered)."""
        with self._lock:
            self._pending[(_inode_key(st), name)] = (st.st_mtime_ns, st.st_size, value)
            if len(self._pending) >= _FLUSH_EVERY:
                self._flush_locked()

    def set_many(self, items: list[tuple[str, StatLike, str]], name: str = "md5") -> None:
        """Record many hashes and write them in one transaction."""
        with self._lock:
            self._flush_locked()
            rows = (
                (_inode_key(st), name, st.st_mtime_ns, st.st_size, value) for _, st, value in items
            )
            self._write_locked(rows)  # streamed: a million rows are never all in memory

    def get_listing(self, root: str, name: str = "md5") -> bytes | None:
        """The listing blob last kept for directory `root`, or None."""
        with self._lock:
            row = (
                self._require_open()
                .execute("SELECT blob FROM listing WHERE root = ? AND name = ?", (root, name))
                .fetchone()
            )
        return row[0] if row else None

    def set_listing(self, root: str, blob: bytes, name: str = "md5") -> None:
        """Keep `blob` as the listing of directory `root` (replacing the last one)."""
        with self._lock:
            self._require_open().execute(
                "INSERT OR REPLACE INTO listing (root, name, blob) VALUES (?, ?, ?)",
                (root, name, blob),
            )

    def flush(self) -> None:
        """Write buffered rows now."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        self._write_locked((ino, name, *row) for (ino, name), row in self._pending.items())
        self._pending.clear()

    def _write_locked(self, rows: Iterable[tuple[int, str, int, int, str]]) -> None:
        conn = self._require_open()
        with conn:  # one transaction for the whole batch
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT OR REPLACE INTO state (inode, name, mtime_ns, size, value) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def _require_open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"state DB {self.db_path} is closed")
        return self._conn

    def close(self) -> None:
        """Write buffered rows and close the database; further calls are errors."""
        with self._lock:
            if self._conn is None:
                return
            self._flush_locked()
            self._conn.close()
            self._conn = None
