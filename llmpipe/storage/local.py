"""A folder on a local or mounted filesystem: direct system calls, no fsspec layer.

It is the hot path of the benchmarks, so paths are joined by hand and
folders made once per backend.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

from ..fsutil import copy_new, process_umask, publish
from .backend import Backend
from .location import Location


class LocalBackend(Backend):
    """Files under the folder `root`."""

    def __init__(self, root: str, location: Location | None = None) -> None:
        super().__init__(location or Location(root))
        self.root = root
        self._prefix = os.path.join(root, "")
        self._made: set[str] = set()
        self._links = True  # False once a hard link proved impossible (another filesystem)
        self._token = uuid.uuid4().hex
        self._counter = itertools.count()
        self._known_umask: int | None = None

    def _path(self, relpath: str) -> str:
        if os.sep == "/":
            return self._prefix + relpath  # what join would give, without its cost per object
        return os.path.join(self.root, *relpath.split("/"))

    def local_path(self, relpath: str) -> str:
        """Where `relpath` is on this machine's filesystem."""
        return self._path(relpath)

    def _exists(self, relpath: str) -> bool:
        return os.path.isfile(self._path(relpath))

    def _list_files(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix)
        for dirpath, _, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            folder = "" if rel == "." else f"{rel}/"
            for name in files:
                if not name.endswith(".tmp"):
                    yield folder + name

    def _parent(self, relpath: str) -> str:
        path = self._path(relpath)
        directory = path.rpartition(os.sep)[0]  # dirname, for paths `_path` builds
        if directory not in self._made:
            os.makedirs(directory, exist_ok=True)
            self._made.add(directory)
        return path

    def _put_file(self, local: str, relpath: str) -> int:
        final = self._parent(relpath)
        if self._links:
            linked = self._share_inode(local, final)
            if linked is not None:
                return linked
        # A copy under a temporary name, renamed into place: no reader sees half an
        # object. Not fsynced (objects are verified when read); the source's mode kept.
        folder = final.rpartition(os.sep)[0]
        while True:
            tmp = f"{folder}{os.sep}.{self._temp_name()}.tmp"
            try:
                size = copy_new(local, tmp, keep_mode=True, umask=self._umask())
                break
            except FileExistsError:  # a forked copy of this backend drew the same name
                self._token = uuid.uuid4().hex
        publish(tmp, final)
        return size

    def _umask(self) -> int:
        """The process umask, read once per backend (a transfer does not change it)."""
        if self._known_umask is None:
            self._known_umask = process_umask()
        return self._known_umask

    def _temp_name(self) -> str:
        """A name no other writer uses: this backend's random token and a counter (one
        random draw per backend, not per object; `next` on a count is atomic)."""
        return f"{self._token}{next(self._counter):x}"

    def _share_inode(self, src: str, final: str) -> int | None:
        """Hard-link read-only `src` as `final` (a link appears whole, so no temporary);
        its size, or None when it must be copied.

        None when `src` is writable, `final` exists (it is then replaced through a
        temporary) or the filesystem can't link it there; a link across filesystems
        is not tried again by this backend (a push would pay a failed call per object).
        """
        try:
            st = os.stat(src)
            if st.st_mode & 0o222:
                return None
            os.link(src, final)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                self._links = False
            return None
        return st.st_size

    def _get_file(self, relpath: str, local: str, hasher: Any) -> bool:
        if hasher is None:
            _link_or_copy(self._path(relpath), local)
            return False
        _copy_hashing(self._path(relpath), local, hasher)
        return True

    def _put_bytes(self, relpath: str, data: bytes) -> None:
        from ..fsutil import atomic_write_bytes

        atomic_write_bytes(self._parent(relpath), data, durable=False)

    def _get_bytes(self, relpath: str) -> bytes:
        with open(self._path(relpath), "rb") as handle:
            return handle.read()

    def _create_bytes(self, relpath: str, data: bytes) -> bool:
        # Written whole under a temporary name, then hard-linked to its name: a link
        # fails when the name exists, so the create is exclusive and never half-written.
        final = self._parent(relpath)
        tmp = f"{final}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            _write_durably(tmp, data)
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return True

    def _remove(self, relpath: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(relpath))


def _write_durably(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


_CHUNK = 1 << 20


def _copy_hashing(src: str, dst: str, hasher: Any) -> None:
    """Copy `src` to `dst` feeding every byte to `hasher`: the check of a download
    costs no second read of the file (hashlib releases the GIL on big buffers)."""
    with open(src, "rb", buffering=0) as source, open(dst, "wb", buffering=0) as target:
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while n := source.readinto(buffer):
            chunk = view[:n]
            hasher.update(chunk)
            while chunk:
                chunk = chunk[target.write(chunk) :]


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link `src` to `dst` where both sit on one filesystem, else copy it.

    Objects are immutable and read-only on both sides (and verified against their
    hash when fetched), so a folder remote on the cache's own filesystem can share
    inodes with the cache instead of holding a second copy of every byte.
    """
    try:
        if not os.stat(src).st_mode & 0o222:
            os.link(src, dst)
            return
    except OSError:
        pass
    shutil.copyfile(src, dst)
