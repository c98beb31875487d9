"""`Backend`: files under one root of a storage system, addressed by posix relative paths.

Every public method translates what the driver raises (see `errors`), so callers
see `FileNotFoundError` for a missing object and the location's own
`LlmpipeError` for anything else; subclasses implement the `_`-prefixed methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

from ..errors import LlmpipeError
from .errors import translate
from .location import Location

T = TypeVar("T")


class Backend:
    """The operations remotes, the shared registry and deploy need from storage."""

    atomic_put = True  # put_file never exposes a partial object under its final name

    def __init__(self, location: Location) -> None:
        self.location = location

    def exists(self, relpath: str) -> bool:
        return self._call(self._exists, relpath)

    def list_files(self, prefix: str) -> Iterator[str]:
        """Relative paths of every file below `prefix` (a missing prefix: nothing).

        Names ending in `.tmp` (uploads in progress) are left out.
        """
        try:
            yield from self._list_files(prefix)
        except LlmpipeError:
            raise
        except Exception as exc:
            self._raise(exc)

    def put_file(self, local: str, relpath: str) -> int | None:
        """Store `local` as `relpath`: it appears complete or not at all.

        Returns the bytes stored where the backend knows them without asking again
        (None elsewhere).
        """
        return self._call(self._put_file, local, relpath)

    def get_file(self, relpath: str, local: str, hasher: Any = None) -> bool:
        """Copy `relpath` to `local` (FileNotFoundError when it does not exist).

        Returns True when every byte written also went through `hasher.update`,
        which saves the caller reading the file again to verify it.
        """
        return self._call(self._get_file, relpath, local, hasher)

    def put_bytes(self, relpath: str, data: bytes) -> None:
        """Store `data` as `relpath`, replacing it: readers see the old or the new bytes."""
        self._call(self._put_bytes, relpath, data)

    def get_bytes(self, relpath: str) -> bytes:
        return self._call(self._get_bytes, relpath)

    def create_bytes(self, relpath: str, data: bytes) -> bool:
        """Store `data` as `relpath` unless it exists; False when another writer got there.

        The object appears complete or not at all, except on backends without an
        exclusive create (see `FsspecBackend`), where it may be seen half-written.
        """
        return self._call(self._create_bytes, relpath, data)

    def fingerprint(self, relpath: str) -> tuple[str, str, int | None]:
        """(kind, value, size) identifying `relpath`'s content as dvc records an external
        dependency: `md5` of the bytes by default, a store's `etag` where it has one.

        FileNotFoundError when it does not exist.
        """
        return self._call(self._fingerprint, relpath)

    def _fingerprint(self, relpath: str) -> tuple[str, str, int | None]:
        import tempfile

        from ..hashing import file_hash

        with tempfile.TemporaryDirectory(prefix="llmpipe-") as folder:
            local = f"{folder}/object"
            self._get_file(relpath, local, None)
            return "md5", file_hash(local), os.path.getsize(local)

    def remove(self, relpath: str) -> None:
        """Delete `relpath` (nothing when it is already gone)."""
        self._call(self._remove, relpath)

    def close(self) -> None:
        """Release connections (a no-op by default)."""

    def _call(self, method: Callable[..., T], *args: Any) -> T:
        try:
            return method(*args)
        except LlmpipeError:
            raise
        except Exception as exc:
            self._raise(exc)

    def _raise(self, exc: Exception) -> NoReturn:
        failure = self._failure(exc)
        if failure is exc:
            raise exc
        raise failure from exc

    def _failure(self, exc: Exception) -> BaseException:
        """What to raise for `exc`: a missing object as it is, anything else translated."""
        if isinstance(exc, FileNotFoundError):
            return exc
        return translate(exc, self.location)

    # Implemented by each backend.

    def _exists(self, relpath: str) -> bool:
        raise NotImplementedError

    def _list_files(self, prefix: str) -> Iterator[str]:
        raise NotImplementedError

    def _put_file(self, local: str, relpath: str) -> int | None:
        raise NotImplementedError

    def _get_file(self, relpath: str, local: str, hasher: Any) -> bool:
        raise NotImplementedError

    def _put_bytes(self, relpath: str, data: bytes) -> None:
        raise NotImplementedError

    def _get_bytes(self, relpath: str) -> bytes:
        raise NotImplementedError

    def _create_bytes(self, relpath: str, data: bytes) -> bool:
        raise NotImplementedError

    def _remove(self, relpath: str) -> None:
        raise NotImplementedError
