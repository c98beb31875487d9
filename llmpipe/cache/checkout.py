"""Make a workspace path match cached object(s).

Files that already match (known through the state, or hashed once when the
state does not know them and their size fits) are left alone; others are
replaced atomically; files that a directory's manifest does not list are
removed. Objects missing from the cache are reported, never half-applied.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Container, Sequence
from dataclasses import dataclass

from ..errors import CacheError
from ..fsutil import remove, walk_files
from ..stage import HashInfo
from .build import hash_files
from .links import Linker
from .odb import ObjectDB
from .parallel import map_in_threads, mostly_large
from .state import StateDB


@dataclass(frozen=True)
class CheckoutResult:
    """Workspace paths that were (re)written or removed, and those whose object is missing."""

    changed: tuple[str, ...]
    missing: tuple[str, ...]


def in_cache(odb: ObjectDB, hash_info: HashInfo) -> bool:
    """True when the object is cached; for a directory, its `.dir` and every entry.

    A directory found complete once is remembered with an empty marker file, so
    that `status` of a 10,000-file output costs one stat, not 10,000. Objects only
    leave the cache through `gc`, which drops every marker.
    """
    if not odb.exists(hash_info.value):
        return False
    if not hash_info.isdir:
        return True
    marker = complete_marker(odb, hash_info.value)
    if os.path.exists(marker):
        return True
    try:
        entries = odb.read_manifest(hash_info.value)
    except CacheError:
        return False
    if not all(odb.exists(value) for _, value in entries):
        return False
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "wb"):
            pass
    return True


def complete_marker(odb: ObjectDB, value: str) -> str:
    """Where the "every entry of this .dir is cached" marker lives (beside `files/`)."""
    cache_root = os.path.dirname(os.path.dirname(odb.root))
    return os.path.join(cache_root, "llmpipe", "complete", odb.hash_name, value)


def checkout(
    odb: ObjectDB,
    hash_info: HashInfo,
    path: str,
    link_types: Sequence[str],
    state: StateDB,
    *,
    relink: bool = False,
) -> CheckoutResult:
    """Make `path` hold the content of `hash_info`; `relink` re-links even matching files.

    Raises CacheError when a `.dir` object is corrupt (before touching the workspace).
    """
    linker = Linker(link_types)
    if not odb.exists(hash_info.value):
        return CheckoutResult((), (path,))
    if hash_info.isdir:
        return _checkout_dir(odb, hash_info.value, path, linker, state, relink)
    if os.path.isdir(path) and not os.path.islink(path):
        remove(path)
    elif not relink and _file_is_current(path, hash_info.value, odb, state):
        return CheckoutResult((), ())
    _link(odb, linker, state, [(path, hash_info.value)], hash_info.isexec)
    return CheckoutResult((path,), ())


def _checkout_dir(
    odb: ObjectDB, value: str, path: str, linker: Linker, state: StateDB, relink: bool
) -> CheckoutResult:
    wanted = dict(odb.read_manifest(value))
    if os.path.lexists(path) and not os.path.isdir(path):
        remove(path)
    existing = dict(walk_files(path)) if os.path.isdir(path) else {}
    extra = sorted(set(existing) - set(wanted))
    for rel in extra:
        remove(os.path.join(path, rel))
    current = {} if relink else _current_files(path, existing, wanted, odb, state)
    stale = [rel for rel in sorted(wanted) if current.get(rel) != wanted[rel]]
    missing = [rel for rel in stale if not odb.exists(wanted[rel])]
    missing_set = set(missing)
    todo = [(os.path.join(path, rel), wanted[rel]) for rel in stale if rel not in missing_set]
    absent = {os.path.join(path, rel) for rel in stale if rel not in existing}
    _link(odb, linker, state, todo, False, absent)
    if extra:
        _remove_empty_dirs(path)
    changed = sorted([p for p, _ in todo] + [os.path.join(path, rel) for rel in extra])
    return CheckoutResult(tuple(changed), tuple(os.path.join(path, rel) for rel in missing))


def _file_is_current(path: str, value: str, odb: ObjectDB, state: StateDB) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:  # missing, or a dangling symlink
        return False
    return _current_files(path, {"": st}, {"": value}, odb, state).get("") == value


def _current_files(
    root: str,
    existing: dict[str, os.stat_result],
    wanted: dict[str, str],
    odb: ObjectDB,
    state: StateDB,
) -> dict[str, str]:
    """Hashes of the existing files (relpath -> stat; "" is `root` itself) that may be right.

    The state answers first; on a miss a file is hashed only when its size equals
    its object's size, since otherwise it cannot match.
    """
    candidates = [
        (rel, st)
        for rel, st in existing.items()
        if rel in wanted and _size_matches(odb, wanted[rel], st)
    ]
    values = hash_files(root, candidates, odb.hash_name, state)
    return {rel: value for (rel, _), value in zip(candidates, values, strict=True)}


def _size_matches(odb: ObjectDB, value: str, st: os.stat_result) -> bool:
    try:
        return os.stat(odb.oid_path(value)).st_size == st.st_size
    except FileNotFoundError:
        return False


def _link(
    odb: ObjectDB,
    linker: Linker,
    state: StateDB,
    todo: list[tuple[str, str]],
    isexec: bool,
    absent: Container[str] = frozenset(),
) -> None:
    """Link each (workspace path, hash) and record the new stats in the state.

    Paths in `absent` did not exist when the workspace was read: they are created
    in place, without the temporary sibling that replacing a file needs.
    """

    def link_one(item: tuple[str, str]) -> tuple[str, os.stat_result, str]:
        path, value = item
        if path in absent:
            linker.link_new(odb.oid_path(value), path, isexec=isexec)
        else:
            linker.link(odb.oid_path(value), path, isexec=isexec)
        return path, os.stat(path), value

    state.set_many(map_in_threads(link_one, todo, _jobs_for(odb, todo)), odb.hash_name)


def _jobs_for(odb: ObjectDB, todo: list[tuple[str, str]]) -> int | None:
    """The default pool for large objects, one thread for small ones (see mostly_large)."""
    return None if mostly_large(todo, lambda item: odb.oid_path(item[1])) else 1


def _remove_empty_dirs(root: str) -> None:
    # Bottom-up; rmdir refuses non-empty folders, which is the test we want.
    for directory, _, _ in os.walk(root, topdown=False):
        if directory != root:
            with contextlib.suppress(OSError):
                os.rmdir(directory)
