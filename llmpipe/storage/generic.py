"""Any fsspec filesystem (GCS, Azure, memory; SSH builds on it in `ssh`)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from .backend import Backend
from .location import Location


class FsspecBackend(Backend):
    """Files under `root` of fsspec filesystem `fs`.

    Object stores put atomically (`atomic_put`); other filesystems (SFTP) write a
    temporary name and rename it. Exclusive create uses fsspec's `"xb"` mode; a
    filesystem without it falls back to check-then-write, which two writers can
    both pass (best effort), and an object may be seen before its bytes are in.
    """

    def __init__(self, location: Location, fs: Any, root: str, atomic_put: bool) -> None:
        super().__init__(location)
        self.fs = fs
        self.root = root.rstrip("/")
        self.atomic_put = atomic_put
        self._made: set[str] = set()

    def _path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}"

    def _exists(self, relpath: str) -> bool:
        return bool(self.fs.exists(self._path(relpath)))

    def _list_files(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix).rstrip("/")
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return
        cut = len(self.fs._strip_protocol(self.root).rstrip("/")) + 1
        for path in found:
            rel = self.fs._strip_protocol(path)[cut:]
            if not rel.endswith(".tmp"):
                yield rel

    def _makedirs(self, relpath: str) -> None:
        directory = self._path(relpath).rsplit("/", 1)[0]
        if directory not in self._made:
            self.fs.makedirs(directory, exist_ok=True)
            self._made.add(directory)

    def _put_file(self, local: str, relpath: str) -> None:
        if self.atomic_put:
            self.fs.put_file(local, self._path(relpath))
            return
        self._makedirs(relpath)
        self._through_temporary(relpath, lambda tmp: self.fs.put_file(local, tmp))

    def _through_temporary(self, relpath: str, write: Any) -> None:
        """`write(tmp)` a temporary beside `relpath`, then rename it over `relpath`."""
        final = self._path(relpath)
        tmp = f"{final}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            write(tmp)
            self.fs.mv(tmp, final)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def _get_file(self, relpath: str, local: str, hasher: Any) -> bool:
        # The filesystem's own get_file (e.g. SFTP's pipelined reads) beats a read loop.
        self.fs.get_file(self._path(relpath), local)
        return False

    def _put_bytes(self, relpath: str, data: bytes) -> None:
        if self.atomic_put:
            self.fs.pipe_file(self._path(relpath), data)
            return
        self._makedirs(relpath)
        self._through_temporary(relpath, lambda tmp: self.fs.pipe_file(tmp, data))

    def _get_bytes(self, relpath: str) -> bytes:
        return bytes(self.fs.cat_file(self._path(relpath)))

    def _create_bytes(self, relpath: str, data: bytes) -> bool:
        if not self.atomic_put:
            self._makedirs(relpath)
        path = self._path(relpath)
        try:
            with self.fs.open(path, "xb") as handle:
                handle.write(data)
            return True
        except FileExistsError:
            return False
        except (ValueError, NotImplementedError, TypeError):
            if self.fs.exists(path):  # no exclusive create here: best effort
                return False
            self.fs.pipe_file(path, data)
            return True

    def _remove(self, relpath: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(relpath))
