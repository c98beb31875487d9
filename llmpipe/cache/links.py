"""Put a cache object at a workspace path with the first link type that works.

Link types, as in DVC's `cache.type`: `reflink` (copy-on-write clone), `hardlink`,
`symlink`, `copy`. The workspace path is replaced in one rename of a temporary
sibling, so readers see the old file or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
import uuid
from collections.abc import Callable, Sequence

from ..errors import CacheError
from ..fsutil import copy_new, remove

LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")
_FICLONE = 0x40049409  # from linux/fs.h
# Errors meaning "this filesystem can't do this link type", as opposed to real failures.
_UNSUPPORTED = {
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.EXDEV,
    errno.EPERM,
    errno.EINVAL,
    errno.ENOTTY,
    errno.EMLINK,
    errno.ENOSYS,
}


def _reflink(src: str, dst: str) -> None:
    import fcntl

    with open(src, "rb") as source, open(dst, "wb") as target:
        try:
            fcntl.ioctl(target.fileno(), _FICLONE, source.fileno())
        except OSError:
            target.close()
            os.unlink(dst)
            raise


def _hardlink(src: str, dst: str) -> None:
    os.link(src, dst)


def _symlink(src: str, dst: str) -> None:
    os.symlink(os.path.abspath(src), dst)


_TMP_TAIL = ".tmp"
# `.<name>.<32 hex>.tmp`: the temporary sibling `Linker.link` renames into place.
_TMP_NAME = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def is_link_temp(path: str) -> bool:
    """True for a temporary file a linker left behind (killed before its rename)."""
    return bool(_TMP_NAME.match(os.path.basename(path)))


def _copy(src: str, dst: str) -> None:
    """Copy into the new path `dst` (created exclusively: an existing path, or a
    symlink someone put there, is an error rather than something written through)."""
    copy_new(src, dst)


def make_link(name: str, src: str, dst: str) -> None:
    """Create the new path `dst` from `src` with link type `name`; OSError on failure."""
    _LINKERS[name](src, dst)


_LINKERS: dict[str, Callable[[str, str], None]] = {
    "reflink": _reflink,
    "hardlink": _hardlink,
    "symlink": _symlink,
    "copy": _copy,
}


class Linker:
    """Links objects into the workspace; remembers link types that proved unsupported.

    `mode` handling, as dvc's: reflinks and copies are new files, so they get the
    mode the umask gives (`0o644` under umask 022), plus the owner's execute bit
    when `isexec` (`0o744`), or the `mode` given; hard links and symlinks share the
    object's read-only mode.
    """

    def __init__(self, link_types: Sequence[str]) -> None:
        unknown = [name for name in link_types if name not in _LINKERS]
        if unknown or not link_types:
            raise CacheError(
                f"unknown cache link type {unknown or link_types!r}: "
                f"set cache.type to a list of {', '.join(LINK_TYPES)}"
            )
        self.link_types = list(link_types)
        self._forget_lock = threading.Lock()
        self._made_dirs: set[str] = set()  # parents known to exist

    def make(self, src: str, dst: str, skip: Sequence[str] = ()) -> str:
        """Create the new path `dst` from `src` with the first link type that works.

        Types in `skip` are not tried. Returns the type used; CacheError when none works.
        """
        errors = []
        for name in list(self.link_types):
            if name in skip:
                continue
            try:
                _LINKERS[name](src, dst)
            except FileExistsError:
                raise  # about `dst`, not the link type: let the caller decide
            except OSError as exc:
                errors.append(f"{name}: {exc.strerror or exc}")
                self.forget(name, exc)
                continue
            return name
        raise CacheError(
            f"could not link {src} to {dst} with any of {self.link_types}: {'; '.join(errors)}"
        )

    def link(
        self, obj_path: str, dst: str, *, isexec: bool = False, mode: int | None = None
    ) -> str:
        """Replace `dst` with the object at `obj_path`; return the link type used."""
        directory = os.path.dirname(dst) or "."
        self._ensure_dir(directory)
        tmp = os.path.join(directory, f".{os.path.basename(dst)}.{uuid.uuid4().hex}{_TMP_TAIL}")
        name = self.make(obj_path, tmp)
        return self._finish(name, tmp, dst, isexec, mode)

    def link_new(self, obj_path: str, dst: str, *, isexec: bool = False) -> str:
        """Create `dst`, which did not exist, from the object; return the link type used.

        A hard link or symlink appears whole, so it is made in place. A copy (or
        reflink) goes through a temporary sibling and a rename, as `link` does: a
        copy cut short by a crash at `dst` would look like a file the user wrote
        (not in the cache), which the next checkout refuses to overwrite. If
        `dst` appeared meanwhile, it is replaced as `link` does.
        """
        if self.preferred not in ("hardlink", "symlink"):
            return self.link(obj_path, dst, isexec=isexec)
        self._ensure_dir(os.path.dirname(dst) or ".")
        try:
            name = self.make(obj_path, dst)
        except FileExistsError:
            return self.link(obj_path, dst, isexec=isexec)
        if name in ("reflink", "copy"):
            _set_mode(dst, isexec, None)
        return name

    def _ensure_dir(self, directory: str) -> None:
        """`_ensure_parent` once per folder: a checkout links thousands of files into one."""
        if directory not in self._made_dirs:
            _ensure_parent(directory)
            self._made_dirs.add(directory)

    @property
    def preferred(self) -> str:
        """The first link type not yet known to be unsupported."""
        return self.link_types[0]

    def forget(self, name: str, exc: OSError) -> bool:
        """Drop link type `name` when `exc` says the filesystem can't do it.

        Returns True when it was dropped (so another type is left to try). The
        last type is kept, so there is always something to try.
        """
        if exc.errno not in _UNSUPPORTED:
            return False
        with self._forget_lock:
            if name not in self.link_types:
                return True  # another thread dropped it already: retry with what is left
            if len(self.link_types) < 2:
                return False
            self.link_types.remove(name)
        return True

    def _finish(self, name: str, tmp: str, dst: str, isexec: bool, mode: int | None) -> str:
        try:
            if name in ("reflink", "copy"):
                _set_mode(tmp, isexec, mode)
            _replace(tmp, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return name


def _set_mode(path: str, isexec: bool, mode: int | None) -> None:
    """`mode`, or the new file's own (umask) mode with the owner's execute bit if `isexec`."""
    if mode is not None:
        os.chmod(path, mode)
    elif isexec:
        os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | stat.S_IXUSR)


def _replace(tmp: str, dst: str) -> None:
    try:
        os.replace(tmp, dst)
    except OSError as exc:
        # A directory (or a non-empty one) sits where the file must go.
        if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
            raise
        remove(dst)
        os.replace(tmp, dst)


def _ensure_parent(directory: str) -> None:
    """Create `directory`, removing files that sit where one of its folders must be."""
    try:
        os.makedirs(directory, exist_ok=True)
        return
    except (FileExistsError, NotADirectoryError):
        pass
    probe = directory
    while probe and not os.path.isdir(probe):
        if os.path.lexists(probe):
            remove(probe)
            break
        probe = os.path.dirname(probe)
    os.makedirs(directory, exist_ok=True)
