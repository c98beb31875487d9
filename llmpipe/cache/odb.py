"""The content-addressed object store in DVC 3's layout.

`root` is the algorithm's folder (`<cache>/files/md5`); an object with hash
`abcdef…` lives at `root/ab/cdef…`, a directory manifest at `root/ab/cdef….dir`.
Objects are read-only. Every object appears under its final name in one rename
of a complete temporary file in the same folder, so a crash leaves at worst a
stray temporary (a name starting with `.` and ending in `.tmp`) that readers
ignore and `gc` removes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from ..errors import CacheError
from ..fsutil import discard, present_in_folders, publish, write_all
from ..hashing import bytes_hash, file_hash, parse_dir_manifest

OBJECT_MODE = 0o444
_VALID = re.compile(r"^[0-9a-f]{3,128}(\.dir)?$")
TMP_SUFFIX = ".tmp"


def is_temp_name(name: str) -> bool:
    """True for the temporary names that writers use inside the object folders."""
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


class ObjectDB:
    """Objects of one hash algorithm under `root`."""

    def __init__(self, root: str, hash_name: str = "md5") -> None:
        self.root = root
        self.hash_name = hash_name
        self._made_dirs: set[str] = set()

    def oid_path(self, value: str) -> str:
        """The path of object `value`; CacheError when `value` is not a hash."""
        if not _VALID.match(value):
            raise CacheError(f"'{value}' is not a valid {self.hash_name} hash")
        return f"{self.root}{os.sep}{value[:2]}{os.sep}{value[2:]}"  # join, minus its cost

    def entry_path(self, value: str) -> str:
        """Where `all_oids` found `value`, hash or not (gc removes stray names too)."""
        return os.path.join(self.root, value[:2], value[2:])

    def exists(self, value: str) -> bool:
        return os.path.isfile(self.oid_path(value))

    def existing(self, values: Iterable[str]) -> set[str]:
        """The objects among `values` that exist: `exists` for many, in fewer calls
        (see `present_objects`)."""
        names: dict[str, str] = {}
        for value in values:
            if not _VALID.match(value):
                self.oid_path(value)  # raises the CacheError naming it
            names[value] = value
        return present_objects(lambda shard: f"{self.root}{os.sep}{shard}", names)

    def _ensure_dir(self, directory: str) -> None:
        """Create `directory` once per ObjectDB (the stat is not repeated per object)."""
        if directory not in self._made_dirs:
            os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)

    def _folder_of(self, path: str) -> str:
        """The (created) folder holding `path`."""
        directory = os.path.dirname(path)
        self._ensure_dir(directory)
        return directory

    def temp_path(self, value: str) -> str:
        """A fresh temporary name in the folder of object `value` (folder created)."""
        final = self.oid_path(value)
        directory = self._folder_of(final)
        return os.path.join(directory, f".{os.path.basename(final)}.{uuid.uuid4().hex}.tmp")

    def new_temp(self) -> str:
        """A fresh temporary name under `root`, for content whose hash is not known yet."""
        self._ensure_dir(self.root)
        return os.path.join(self.root, f".{uuid.uuid4().hex}{TMP_SUFFIX}")

    def add_file(self, src: str, value: str, *, move: bool) -> None:
        """Store the file `src` (whose hash the caller computed) as object `value`.

        With `move`, the object takes over src's inode when both are on one
        filesystem (no data is copied): `src` is then left as a read-only hard
        link of the object, and callers re-link the workspace as they need.
        Otherwise the bytes are copied. Nothing happens when the object exists.
        """
        if self.exists(value):
            return
        tmp = self.temp_path(value)
        try:
            if not (move and _try_hardlink(src, tmp)):
                shutil.copyfile(src, tmp)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.commit_temp(tmp, value)

    def commit_temp(self, tmp: str, value: str) -> None:
        """Make the complete file `tmp` (from `temp_path` or `new_temp`) object `value`.

        The caller vouches for its content. It becomes read-only and appears under
        its final name in one rename; `tmp` is gone afterwards either way.
        """
        try:
            final = self.oid_path(value)
            self._folder_of(final)
        except BaseException:
            discard(tmp)
            raise
        publish(tmp, final, OBJECT_MODE)

    def link_object(self, src: str, value: str, inode: int) -> bool:
        """Make the verified read-only file `src` object `value` by hard-linking it.

        `inode` is the inode whose content the caller checked: if `src` was replaced
        since, the link is undone. False when the filesystem can't link (another
        device, no hard links) or the inode changed; True when the object is there.
        """
        final = self.oid_path(value)
        self._folder_of(final)
        try:
            os.link(src, final)
        except FileExistsError:
            return True
        except OSError:
            return False
        if os.stat(final).st_ino == inode:
            return True
        os.unlink(final)
        return False

    def add_bytes(self, value: str, data: bytes) -> None:
        """Store `data` as object `value` unless it exists (no fsync: see module doc)."""
        if self.exists(value):
            return
        tmp = self.temp_path(value)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                write_all(fd, data)  # plain calls: open() adds an fstat and a tty check
            finally:
                os.close(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self.commit_temp(tmp, value)

    def read_manifest(self, value: str) -> list[tuple[str, str]]:
        """The (relpath, hash) entries of `.dir` object `value`, checked against its hash.

        Raises CacheError when the object is missing, corrupt or names unsafe paths.
        """
        path = self.oid_path(value)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError as exc:
            raise CacheError(f"directory object {value} is not in the cache ({path})") from exc
        if bytes_hash(data, self.hash_name) + ".dir" != value:
            raise CacheError(_corrupt_message(value, path))
        try:
            entries = parse_dir_manifest(data, self.hash_name)
        except ValueError as exc:
            raise CacheError(f"{_corrupt_message(value, path)} ({exc})") from exc
        _check_relpaths(entries, path)
        return entries

    def verify(self, value: str) -> bool:
        """True when object `value` exists and its content matches its hash."""
        path = self.oid_path(value)
        try:
            if value.endswith(".dir"):
                with open(path, "rb") as handle:
                    return bytes_hash(handle.read(), self.hash_name) + ".dir" == value
            return file_hash(path, self.hash_name) == value
        except FileNotFoundError:
            return False

    def all_oids(self) -> Iterator[str]:
        """Every object's hash value (temporaries excluded), in no particular order."""
        for prefix, entry in self._entries():
            if not is_temp_name(entry.name):
                yield prefix + entry.name

    def temp_files(self) -> Iterator[os.DirEntry[str]]:
        """Temporary files left in the object folders (by writers, or by a crash)."""
        with contextlib.suppress(FileNotFoundError), os.scandir(self.root) as entries:
            yield from (e for e in entries if is_temp_name(e.name) and e.is_file())
        for _, entry in self._entries():
            if is_temp_name(entry.name):
                yield entry

    def _entries(self) -> Iterator[tuple[str, os.DirEntry[str]]]:
        try:
            prefixes = [e.name for e in os.scandir(self.root) if len(e.name) == 2 and e.is_dir()]
        except FileNotFoundError:
            return
        for prefix in prefixes:
            with os.scandir(os.path.join(self.root, prefix)) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        yield prefix, entry

    def remove(self, value: str) -> None:
        """Delete object `value`; a missing object is fine."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.oid_path(value))


def _try_hardlink(src: str, dst: str) -> bool:
    try:
        os.link(src, dst)
    except OSError:
        # Another filesystem, or one without hard links: the caller copies.
        return False
    return True


K = TypeVar("K")


def present_objects(shard_folder: Callable[[str], str], names: Mapping[str, K]) -> set[K]:
    """The keys of `names` (object file name -> key) whose object exists, in the layout
    of a cache or a folder remote: the name's first two characters are its shard folder
    (`shard_folder(shard)`), the rest its file. A shard folder is stat-ed once, then
    listed or its files stat-ed, whichever is cheaper (`fsutil.present_in_folders`)."""
    shards: dict[str, dict[str, K]] = {}
    for name, key in names.items():
        shards.setdefault(name[:2], {})[name[2:]] = key
    return present_in_folders({shard_folder(s): wanted for s, wanted in shards.items()})


def _corrupt_message(value: str, path: str) -> str:
    return (
        f"cache object {value} is corrupt: its content does not match its hash ({path}); "
        "delete it and add or pull the data again"
    )


def _check_relpaths(entries: list[tuple[str, str]], where: str) -> None:
    """CacheError naming the first path with an empty, `.` or `..` part (or a leading `/`).

    One scan of every path framed by `/` finds any such part (as `//`, `/./` or
    `/../`; the `\n` between paths belongs to no pattern), so a sound manifest is
    not split path by path; the entry-by-entry check then names the culprit.
    """
    framed = "/" + "/\n/".join(relpath for relpath, _ in entries) + "/"
    if "//" in framed or "/./" in framed or "/../" in framed:
        for relpath, _ in entries:
            _check_relpath(relpath, where)


def _check_relpath(relpath: str, where: str) -> None:
    parts = relpath.split("/")
    if not relpath or relpath.startswith("/") or {"", ".", ".."} & set(parts):
        raise CacheError(f"directory object {where} names an unsafe path '{relpath}'")
