"""Remember that every object of a directory is cached, and notice when that stops.

Checking that a 10,000-file directory output is cached costs 10,000 stats; `status`
does it for every directory output. A marker file beside `files/` remembers, for a
`.dir` object found complete, the modification time of each shard folder (`ab/`)
its entries live in. Removing an object from a folder changes the folder's mtime,
whoever removes it (llmpipe's `gc`, `dvc gc`, a hand), so a marker whose times all
still match vouches for the directory with one stat per shard folder; a folder
whose time moved has its entries checked again, and only those.
"""

from __future__ import annotations

import contextlib
import os
import time

from ..errors import CacheError
from ..fsutil import atomic_write_text
from ..stage import HashInfo
from .odb import ObjectDB

# A folder changed this recently may change again within the same clock tick
# without its mtime moving (as git's "racy" index entries): such a folder is
# recorded as unknown, and checked again next time.
_RACY_NS = 2_000_000_000
_UNKNOWN = 0


def complete_marker(odb: ObjectDB, value: str) -> str:
    """Where the "every entry of this .dir is cached" marker lives (beside `files/`)."""
    cache_root = os.path.dirname(os.path.dirname(odb.root))
    return os.path.join(cache_root, "llmpipe", "complete", odb.hash_name, value)


def directory_complete(odb: ObjectDB, value: str) -> bool:
    """True when every entry of the cached `.dir` object `value` is in the cache.

    The caller has checked that the `.dir` object itself exists. A corrupt or
    unreadable `.dir` object counts as incomplete.
    """
    marker = complete_marker(odb, value)
    recorded = _read_marker(marker)
    stale = None if recorded is None else _moved_folders(odb, recorded)
    if stale == set():
        return True
    try:
        entries = odb.read_manifest(value)
    except CacheError:
        return False
    # Folder times are read before the objects are looked at: a removal after
    # this point moves the time past the one recorded.
    stamps = {prefix: _folder_stamp(odb, prefix) for prefix in {oid[:2] for _, oid in entries}}
    to_check = [oid for _, oid in entries if stale is None or oid[:2] in stale]
    if not all(odb.exists(oid) for oid in to_check):
        return False
    with contextlib.suppress(OSError):
        text = "".join(f"{prefix} {stamp}\n" for prefix, stamp in sorted(stamps.items()))
        atomic_write_text(marker, text, durable=False)
    return True


def _moved_folders(odb: ObjectDB, recorded: dict[str, int]) -> set[str]:
    """Shard folders whose mtime is not the recorded one (or was recorded as unknown)."""
    return {
        prefix
        for prefix, stamp in recorded.items()
        if stamp == _UNKNOWN or _folder_stamp(odb, prefix) != stamp
    }


def _folder_stamp(odb: ObjectDB, prefix: str) -> int:
    """The folder's mtime in ns; -1 when it is gone, `_UNKNOWN` when too recent to trust."""
    try:
        mtime = os.stat(os.path.join(odb.root, prefix)).st_mtime_ns
    except OSError:
        return -1
    return _UNKNOWN if time.time_ns() - mtime < _RACY_NS else mtime


def _read_marker(path: str) -> dict[str, int] | None:
    """The recorded folder times; None when there is no marker or it is unreadable.

    An empty marker (what llmpipe 0.1 wrote, vouching for ever) is no marker.
    """
    try:
        with open(path, encoding="ascii") as handle:
            pairs = [line.split(" ") for line in handle.read().splitlines()]
        return {prefix: int(stamp) for prefix, stamp in pairs} or None
    except (OSError, ValueError):
        return None


def in_cache(odb: ObjectDB, hash_info: HashInfo) -> bool:
    """True when the object is cached; for a directory, its `.dir` and every entry.

    A directory's entries are checked through its completeness marker (one stat
    per shard folder once found complete; see above).
    """
    if not odb.exists(hash_info.value):
        return False
    return not hash_info.isdir or directory_complete(odb, hash_info.value)
