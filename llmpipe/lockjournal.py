"""The entries of a large dvc.lock written since the file was last rewritten.

dvc rewrites the whole dvc.lock after every stage, so a first `repro` of n stages
writes O(n²) bytes (10,000 stages: gigabytes). `LockWriter` does so only while the
lock is small. Past `SMALL` bytes, a finished stage's block is appended to this
journal instead (one `write`, which a SIGKILL cannot tear), and the lock is rewritten
once the journal has grown to half the lock's size, and when the command ends: each
byte is then written a bounded number of times.

A journal names the lock text it continues (inode, size, mtime and a hash of the text).
Whoever reads the lock in the working directory (`lockfile.read_lock`, the writer)
applies a journal that names the file as it is, and ignores any other: after
`git checkout`, an edit or a `dvc` run, the lock is no longer the one the journal
continues. A killed `repro` therefore loses no finished stage (dvc, which does not
fsync, loses what a power cut loses; so does this journal, which is not fsynced
either), although `dvc` itself, which does not read the journal, sees the lock as it
was at the last rewrite until the next llmpipe command that writes it.

Journals live in `.llmpipe/tmp/lock-journal/` (machine-local, git-ignored).
"""

from __future__ import annotations

import contextlib
import json
import os

from .hashing import blake2b
from .yamlio import LOCK_HEADER, split_stage_blocks

SMALL = 64 * 1024  # below this a lock is simply rewritten after each stage, as dvc does
_MAGIC = b"llmpipe dvc.lock journal 1 "


def journal_path(root: str, relpath: str) -> str:
    name = relpath.replace("%", "%25").replace("/", "%2F")
    return os.path.join(root, ".llmpipe", "tmp", "lock-journal", name)


def _identity(lock_path: str, text: bytes) -> bytes | None:
    """What names one written lock file: its inode, size, mtime and text."""
    try:
        st = os.stat(lock_path)
    except OSError:
        return None
    digest = blake2b(text, digest_size=16).hexdigest()
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{digest}".encode()


class Journal:
    """An open journal for the lock at `relpath`, started right after the lock was written."""

    def __init__(self, root: str, relpath: str, text: str) -> None:
        self.path = journal_path(root, relpath)
        identity = _identity(os.path.join(root, relpath), text.encode("utf-8"))
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.records = 0
        self.size = 0
        if identity is None:  # the lock vanished under us: start no journal on it
            self.close(remove=True)
            raise FileNotFoundError(relpath)
        os.write(self._fd, _MAGIC + identity + b"\n")

    def append(self, name: str, block: str) -> None:
        """Add stage `name`'s block (as the lock will hold it) in one write."""
        data = block.encode("utf-8")
        record = f"{json.dumps(name)} {len(data)}\n".encode() + data
        os.write(self._fd, record)
        self.records += 1
        self.size += len(record)

    def close(self, remove: bool) -> None:
        """Close it; `remove` once the lock holds everything it recorded."""
        with contextlib.suppress(OSError):
            os.close(self._fd)
        if remove:
            discard(self.path)


def discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def applied(root: str, relpath: str, text: str) -> str:
    """The lock `text` (read from `relpath` in the working directory `root`) with the
    journal's entries applied, or `text` itself when no journal continues it."""
    try:
        with open(journal_path(root, relpath), "rb") as handle:
            raw = handle.read()
    except OSError:
        return text
    header, _, body = raw.partition(b"\n")
    identity = _identity(os.path.join(root, relpath), text.encode("utf-8"))
    if identity is None or header != _MAGIC + identity:
        return text
    merged = split_stage_blocks(text)
    if not merged:  # the writer journals only a lock of its own canonical text
        return text
    for name, block in _records(body):
        merged[name] = block
    return LOCK_HEADER + "".join(merged.values())


def _records(body: bytes) -> list[tuple[str, str]]:
    """The whole records of a journal's body; a torn last one (a kill mid-write) is left out."""
    found = []
    position = 0
    while position < len(body):
        end = body.find(b"\n", position)
        if end < 0:
            break
        try:
            name_json, size = body[position:end].rsplit(b" ", 1)
            name, length = json.loads(name_json), int(size)
        except ValueError:
            break
        block = body[end + 1 : end + 1 + length]
        if len(block) != length or not isinstance(name, str):
            break
        found.append((name, block.decode("utf-8")))
        position = end + 1 + length
    return found
