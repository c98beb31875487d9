"""The outputs llmpipe put in the workspace, so that a later checkout can take them back.

After `git checkout` of a branch that lacks an output, `checkout` removes it (dvc's
"unused links"), but only when it is exactly as llmpipe left it: each recorded path
keeps a signature (a file's inode and mtime; for a directory, its files' names,
inodes, mtimes and sizes), and a path that changed since, or that the workspace's
stages still name, is kept. The records live beside the state DB (`links` table).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Collection, Iterable

from ..dvcignore import DvcIgnore
from ..fsutil import walk_files

_SCHEMA = "CREATE TABLE IF NOT EXISTS links (path TEXT PRIMARY KEY, signature TEXT NOT NULL)"


def signature(path: str, ignore: DvcIgnore | None = None) -> str | None:
    """What `path` looks like now (None when it does not exist)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not os.path.isdir(path):
        return f"file:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
    import hashlib  # not on the no-op path: only a directory's signature needs it

    digest = hashlib.sha256()
    prune = ignore.pruner(path) if ignore is not None else None
    for rel, file_st in sorted(walk_files(path, prune)):
        digest.update(
            f"{rel}\0{file_st.st_ino}\0{file_st.st_mtime_ns}\0{file_st.st_size}\n".encode()
        )
    return f"dir:{digest.hexdigest()}"


class LinkDB:
    """Recorded outputs of one workspace (repository-relative posix paths)."""

    def __init__(self, db_path: str, root: str, ignore: DvcIgnore | None = None) -> None:
        self.db_path = db_path
        self.root = root
        self.ignore = ignore
        self._lock = threading.Lock()
        self._opened: sqlite3.Connection | None = None  # on first use: `status` never needs it

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._opened is None:
            self._opened = sqlite3.connect(self.db_path, timeout=30.0, check_same_thread=False)
            # As the state DB in the same file: a power cut may lose the last rows, which
            # only leaves an unused output for a later cleanup; no fsync per record.
            self._opened.execute("PRAGMA synchronous=NORMAL")
            self._opened.execute(_SCHEMA)
        return self._opened

    def record(self, relpaths: Iterable[str]) -> None:
        """Remember the outputs at `relpaths` as they are now (missing ones are skipped)."""
        rows = [
            (relpath, sig)
            for relpath in relpaths
            if (sig := signature(os.path.join(self.root, relpath), self.ignore)) is not None
        ]
        with self._lock, self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO links VALUES (?, ?)", rows)

    def unused(self, used: Collection[str]) -> list[str]:
        """Recorded paths not in `used` that are still exactly as recorded, sorted."""
        with self._lock:
            rows = self._conn.execute("SELECT path, signature FROM links").fetchall()
        return sorted(
            relpath
            for relpath, recorded in rows
            if relpath not in used
            and signature(os.path.join(self.root, relpath), self.ignore) == recorded
        )

    def forget(self, relpaths: Iterable[str]) -> None:
        with self._lock, self._conn:
            self._conn.executemany("DELETE FROM links WHERE path = ?", [(p,) for p in relpaths])

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
