"""One process at a time mutates a repository.

The lock is an `flock` on `.dvc/tmp/lock`, the file DVC itself locks, so
llmpipe and dvc also exclude each other. The kernel drops it when the holder
dies, even by SIGKILL, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from ..errors import RepoLockedError


def _holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            pid = handle.read().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid else "another process"


@contextlib.contextmanager
def repo_lock(tmp_dir: str) -> Iterator[None]:
    """Hold the repository lock for the duration of the block, or raise RepoLockedError."""
    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.join(tmp_dir, "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RepoLockedError(
                f"the repository is locked by {_holder(path)} (another llmpipe or dvc "
                "command is running); wait for it to finish and try again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
