"""Save a workspace file or directory into the cache.

Data is never copied twice. A new object is made from the workspace file with
the first link type that works: `reflink` clones it, `hardlink` links it (the
shared inode becomes read-only, as with DVC), `copy` copies it once, and
`symlink` lets the object take the inode and puts a symlink in the workspace.
With reflink and copy the workspace file is not touched at all.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence

from ..dvcignore import DvcIgnore
from ..errors import CacheError
from ..fsutil import FileStat
from ..progress import NoProgress, Progress
from ..stage import HashInfo
from .build import Manifest, build, is_exec
from .links import Linker, make_link
from .odb import ObjectDB
from .parallel import map_in_threads
from .state import StateDB


def save(
    path: str,
    odb: ObjectDB,
    state: StateDB,
    link_types: Sequence[str],
    progress: Progress | None = None,
    ignore: DvcIgnore | None = None,
) -> HashInfo:
    """Hash `path` through the state, store its object(s) in `odb`, and link it back.

    For a directory the `.dir` object is written last, so its presence means every
    entry is in the cache; files that `ignore` (`.dvcignore`) leaves out are not
    part of it. The workspace files' new stats go into the state.
    Raises FileNotFoundError when `path` is missing, CacheError when no link type works.
    """
    linker = Linker(link_types)
    if _worth_overlapping(path, odb, state, linker):
        return _save_big_file(path, odb, state, linker, progress)
    hash_info, manifest = build(path, odb.hash_name, state, progress, ignore=ignore)
    if manifest is None:
        _record(state, odb, [_save_file(odb, linker, path, hash_info.value)])
        return hash_info
    progress = progress or NoProgress()
    progress.start(f"saving {path}", len(manifest.entries))
    try:
        records = _save_files(odb, linker, path, manifest, progress)
    finally:
        progress.finish()
    _record(state, odb, records)
    odb.add_bytes(hash_info.value, manifest.dir_bytes(odb.hash_name))
    return hash_info


def add_copies(odb: ObjectDB, path: str, info: HashInfo, manifest: Manifest | None) -> None:
    """Copy the content of `path` (hashed as `info`/`manifest`) into `odb`, leaving the
    files where they are, unlinked; a directory's `.dir` object is written last."""
    if manifest is None:
        odb.add_file(path, info.value, move=False)
        return
    for rel, value, _size, _exec in manifest.entries:
        odb.add_file(os.path.join(path, rel), value, move=False)
    odb.add_bytes(info.value, manifest.dir_bytes(odb.hash_name))


_Record = tuple[str, FileStat, str]
# A new large file is copied into the cache while it is being hashed.
OVERLAP_MIN_SIZE = 64 * 1024 * 1024


def _save_files(
    odb: ObjectDB, linker: Linker, root: str, manifest: Manifest, progress: Progress
) -> list[_Record | None]:
    """`_save_file` for every entry, on threads when there are many: creating
    thousands of small files is bound by filesystem latency, not CPU."""
    items = [(os.path.join(root, rel), value) for rel, value, _, _ in manifest.entries]
    return map_in_threads(
        lambda item: _save_file(odb, linker, *item), items, None, progress.advance
    )


def _worth_overlapping(path: str, odb: ObjectDB, state: StateDB, linker: Linker) -> bool:
    """True for a large regular file (not a symlink: see `_save_symlink`) the state does
    not know, saved by reflink/copy."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_size >= OVERLAP_MIN_SIZE
        and set(linker.link_types) <= {"reflink", "copy"}
        and state.get(path, st, odb.hash_name) is None
    )


def _save_big_file(
    path: str, odb: ObjectDB, state: StateDB, linker: Linker, progress: Progress | None
) -> HashInfo:
    """Copy (or clone) `path` into a cache temporary on a second thread while hashing it.

    With two cores the copy costs no wall-clock time beyond the hash. The temporary
    becomes the object once the hash names it (or is dropped when it exists already).
    """
    from concurrent.futures import ThreadPoolExecutor

    tmp = odb.new_temp()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            copying = pool.submit(linker.make, path, tmp)
            hash_info, _ = build(path, odb.hash_name, state, progress)
            copying.result()
        if odb.exists(hash_info.value):
            os.unlink(tmp)
        else:
            odb.commit_temp(tmp, hash_info.value)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return hash_info


def _save_file(odb: ObjectDB, linker: Linker, path: str, value: str) -> _Record | None:
    """Store one file and link it; a state record when the workspace file changed inode."""
    obj_path = odb.oid_path(value)
    if os.path.islink(path) and os.path.realpath(path) != os.path.realpath(obj_path):
        return _save_symlink(odb, linker, path, value)
    if odb.exists(value):
        return _relink_existing(linker, path, obj_path, value)
    if _store_new(odb, linker, path, value) != "symlink":
        # reflink/copy left the workspace file alone; hardlink kept its inode and
        # mtime: the state entry made while hashing is still valid.
        return None
    linker.link(obj_path, path)
    return path, FileStat(os.stat(path)), value


def _save_symlink(odb: ObjectDB, linker: Linker, path: str, value: str) -> _Record:
    """Store the content a symlink points at, and put that content where the link was.

    The object is a copy (or a copy-on-write clone): a hard link would share the
    inode of the file the link points at, often outside the workspace, so the
    "immutable" object would change whenever that file does. The workspace then
    holds the cached content instead of the link, as `dvc add` leaves it.
    """
    if not odb.exists(value):
        tmp = odb.temp_path(value)
        try:
            Linker(("reflink", "copy")).make(path, tmp)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        odb.commit_temp(tmp, value)
    linker.link(odb.oid_path(value), path)
    return path, FileStat(os.stat(path)), value


def _store_new(odb: ObjectDB, linker: Linker, path: str, value: str) -> str:
    """Create object `value` from the workspace file; return the link type chosen."""
    tmp = odb.temp_path(value)
    while True:
        kind = linker.preferred
        try:
            _create_object(kind, path, tmp)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if linker.forget(kind, exc):
                continue
            raise CacheError(f"could not store {path} in the cache with {kind}: {exc}") from exc
        odb.commit_temp(tmp, value)
        return kind


def _create_object(kind: str, path: str, tmp: str) -> None:
    if kind != "symlink":
        make_link(kind, path, tmp)
        return
    # The workspace will point at the object: let the object take its inode.
    try:
        make_link("hardlink", path, tmp)
    except OSError:
        make_link("copy", path, tmp)


def _relink_existing(linker: Linker, path: str, obj_path: str, value: str) -> _Record | None:
    before = os.stat(path)
    if not _needs_relink(path, before, obj_path, linker.preferred):
        return None
    linker.link(
        obj_path, path, isexec=is_exec(before.st_mode), mode=_workspace_mode(before.st_mode)
    )
    return path, FileStat(os.stat(path)), value


def _needs_relink(path: str, now: os.stat_result, obj_path: str, wanted: str) -> bool:
    """False when the workspace file already is what link type `wanted` would make."""
    obj = os.stat(obj_path)
    shares_inode = (now.st_dev, now.st_ino) == (obj.st_dev, obj.st_ino)
    if wanted == "hardlink":
        return not shares_inode
    if wanted == "symlink":
        return not (os.path.islink(path) and shares_inode)
    if wanted == "copy":
        # An independent file with the object's content is already a copy.
        return shares_inode
    return True  # reflink: clone to share blocks


def _workspace_mode(mode: int) -> int | None:
    """The user's own permissions; None for a read-only link to the cache, whose
    copy gets a new file's (umask) mode, as a checkout gives it."""
    permissions = stat.S_IMODE(mode)
    return permissions if permissions & stat.S_IWUSR else None


def _record(state: StateDB, odb: ObjectDB, records: list[_Record | None]) -> None:
    state.set_many([record for record in records if record is not None], odb.hash_name)
