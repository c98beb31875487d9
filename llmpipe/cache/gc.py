"""Remove cache objects that nothing uses any more."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import CacheError
from ..stage import HashInfo
from .odb import ObjectDB

# A temporary younger than this may belong to a writer that is still running.
TEMP_GRACE_SECONDS = 3600.0


@dataclass(frozen=True)
class GcResult:
    removed: int
    kept: int
    bytes_freed: int
    paths: tuple[str, ...] = field(default=(), compare=False)  # what went (`dry`: would go)


def gc(odb: ObjectDB, used: Iterable[HashInfo], *, dry: bool = False) -> GcResult:
    """Delete every object not in `used` (a used `.dir` keeps its entries too).

    A used hash keeps its value in whichever cache `odb` is (dvc keeps a DVC 2 hash
    only in DVC 2's cache, but llmpipe may have put that object in DVC 3's). A file
    in an object folder whose name is not a hash is not used by anything and goes
    too, as dvc removes it. Stale temporaries from
    interrupted writes are deleted as well (young ones may belong to a running
    writer: kept for TEMP_GRACE_SECONDS). With `dry`, only count what would go. A
    used `.dir` that is missing or corrupt keeps nothing beyond itself.
    """
    keep = _used_values(odb, used)
    kept = freed = 0
    paths = []
    for value in list(odb.all_oids()):
        if value in keep:
            kept += 1
            continue
        path = odb.entry_path(value)
        freed += _size(path)
        paths.append(path)
        if not dry:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    freed += _remove_stale_temps(odb, dry)
    if paths and not dry and odb.hash_name == "md5":
        _forget_complete_markers(odb)  # (kept for DVC 3's cache only)
    return GcResult(len(paths), kept, freed, tuple(paths))


def _forget_complete_markers(odb: ObjectDB) -> None:
    """A removed entry may belong to a directory once found complete: forget them all."""
    from ..fsutil import remove
    from .complete import complete_marker

    remove(os.path.dirname(complete_marker(odb, "x")))


def _used_values(odb: ObjectDB, used: Iterable[HashInfo]) -> set[str]:
    keep: set[str] = set()
    for hash_info in used:
        keep.add(hash_info.value)
        if hash_info.isdir:
            with contextlib.suppress(CacheError):
                keep.update(value for _, value in odb.read_manifest(hash_info.value))
    return keep


def _remove_stale_temps(odb: ObjectDB, dry: bool) -> int:
    freed = 0
    cutoff = time.time() - TEMP_GRACE_SECONDS
    for entry in list(odb.temp_files()):
        st = entry.stat(follow_symlinks=False)
        if st.st_mtime >= cutoff:
            continue
        freed += st.st_size
        if not dry:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
    return freed


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
