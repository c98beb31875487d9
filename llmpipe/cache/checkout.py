"""Make a workspace path match cached object(s), in two steps: plan, then apply.

`plan_checkout` reads the workspace and decides what to write, replace and
delete, touching nothing; `unsaved_files` names the files a plan would discard
whose content is not in the cache (so a caller can refuse, as `dvc checkout`
does, before anything changes); `apply_checkout` carries the plan out. Files
that already match (known through the state, or hashed once when the state does
not know them and their size fits) are left alone; others are replaced
atomically; files that a directory's manifest does not list are removed.
Objects missing from the cache are reported, never half-applied. Every write
goes through a `PathGuard`: nothing is written through a symlink that leads
out of the workspace or into `.git`, `.dvc` or `.llmpipe`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..dvcignore import DvcIgnore
from ..fsutil import remove, walk_files
from ..pathguard import PathGuard
from ..stage import HashInfo
from .build import hash_files
from .complete import in_cache as in_cache  # it moved there; kept importable from here
from .links import Linker, is_link_temp
from .odb import ObjectDB
from .parallel import map_in_threads, mostly_large
from .state import StateDB

_T = TypeVar("_T")


@dataclass(frozen=True)
class CheckoutResult:
    """Workspace paths that were (re)written or removed, and those whose object is missing."""

    changed: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class CheckoutPlan:
    """What making `path` hold `hash_info` takes; nothing has been touched yet.

    `clear`: remove what is at `path` first (a folder where a file goes, or the
    reverse). `extra`: files of a directory output that its manifest does not list.
    `write`: (path, hash) to create or replace; `absent` of those did not exist,
    `relinked` of those already had the right content (`relink`). `discarded`:
    (path, stat) of existing files whose content the plan deletes or overwrites.
    `missing`: paths whose object is not in the cache (left alone). `existed`:
    whether anything was at `path` at all.
    """

    path: str
    hash_info: HashInfo
    clear: bool = False
    extra: tuple[str, ...] = ()
    write: tuple[tuple[str, str], ...] = ()
    absent: frozenset[str] = frozenset()
    discarded: tuple[tuple[str, os.stat_result], ...] = ()
    missing: tuple[str, ...] = ()
    existed: bool = True
    relinked: frozenset[str] = frozenset()

    @property
    def added(self) -> list[str]:
        """Files the plan creates."""
        return [p for p, _ in self.write if p in self.absent]

    @property
    def modified(self) -> list[str]:
        """Existing files whose content the plan replaces."""
        return [p for p, _ in self.write if p not in self.absent and p not in self.relinked]

    @property
    def changed(self) -> tuple[str, ...]:
        """Every file whose content changes: created, replaced or (`extra`) removed."""
        return tuple(sorted(self.added + self.modified + list(self.extra)))

    @property
    def kind(self) -> str | None:
        """As dvc reports an output: "added" when nothing was there, "modified" when
        something changes, None when the checkout leaves its content as it was."""
        if not self.changed and not self.clear:
            return None
        return "modified" if self.existed else "added"


def checkout(
    odb: ObjectDB,
    hash_info: HashInfo,
    path: str,
    link_types: Sequence[str],
    state: StateDB,
    *,
    guard: PathGuard,
    relink: bool = False,
    ignore: DvcIgnore | None = None,
) -> CheckoutResult:
    """Make `path` hold the content of `hash_info`, discarding whatever is there.

    `relink` re-links even matching files. Raises CacheError when a `.dir` object
    is corrupt and UnsafePathError when a write would leave the workspace, both
    before touching it. Callers that must not lose unsaved work plan, check
    `unsaved_files`, then apply.
    """
    plan = plan_checkout(odb, hash_info, path, state, guard, relink=relink, ignore=ignore)
    return apply_checkout(plan, odb, link_types, state, guard)


def plan_checkout(
    odb: ObjectDB,
    hash_info: HashInfo,
    path: str,
    state: StateDB,
    guard: PathGuard,
    *,
    relink: bool = False,
    ignore: DvcIgnore | None = None,
    only: str | None = None,
) -> CheckoutPlan:
    """Read the workspace at `path` and decide what `apply_checkout` will do.

    Files of a directory that `ignore` (`.dvcignore`) leaves out are not looked
    at: neither removed nor counted as unsaved, as in dvc. `only` (a relative path
    inside a directory output) limits the plan to the files at or below it, as
    dvc's checkout of a path inside a tracked folder does.
    """
    guard.check_output(path)
    if not odb.exists(hash_info.value):
        return CheckoutPlan(path, hash_info, missing=(path,))
    if hash_info.isdir:
        plan = _plan_dir(odb, hash_info, path, state, relink, ignore, only)
    else:
        plan = _plan_file(odb, hash_info, path, state, relink)
    for target, _ in plan.write:
        guard.check_write(target)
    return plan


def _plan_file(
    odb: ObjectDB, hash_info: HashInfo, path: str, state: StateDB, relink: bool
) -> CheckoutPlan:
    write = ((path, hash_info.value),)
    if os.path.isdir(path) and not os.path.islink(path):
        discarded = tuple((os.path.join(path, rel), st) for rel, st in walk_files(path))
        return CheckoutPlan(path, hash_info, clear=True, write=write, discarded=discarded)
    try:
        st = os.stat(path)
    except FileNotFoundError:  # missing, or a dangling symlink
        existed = os.path.lexists(path)
        return CheckoutPlan(path, hash_info, write=write, absent=frozenset({path}), existed=existed)
    if not _current_files(path, {"": st}, {"": hash_info.value}, odb, state):
        return CheckoutPlan(path, hash_info, write=write, discarded=((path, st),))
    if not relink:
        return CheckoutPlan(path, hash_info)
    relinked = frozenset({path})
    return CheckoutPlan(path, hash_info, write=write, discarded=((path, st),), relinked=relinked)


def _plan_dir(
    odb: ObjectDB,
    hash_info: HashInfo,
    path: str,
    state: StateDB,
    relink: bool,
    ignore: DvcIgnore | None,
    only: str | None = None,
) -> CheckoutPlan:
    wanted = _below(dict(odb.read_manifest(hash_info.value)), only)
    clear = os.path.lexists(path) and not os.path.isdir(path)
    discarded: list[tuple[str, os.stat_result]] = []
    if clear and os.path.isfile(path):
        discarded.append((path, os.stat(path)))
    prune = ignore.pruner(path) if ignore is not None else None
    existing = _below(dict(walk_files(path, prune)) if os.path.isdir(path) else {}, only)
    extra = sorted(set(existing) - set(wanted))
    current = _current_files(path, existing, wanted, odb, state)
    stale = [rel for rel in sorted(wanted) if current.get(rel) != wanted[rel]]
    missing = {rel for rel in stale if not odb.exists(wanted[rel])}
    relinked = sorted(current) if relink else []
    write = sorted([rel for rel in stale if rel not in missing] + relinked)
    discarded += [(os.path.join(path, rel), existing[rel]) for rel in extra]
    discarded += [(os.path.join(path, rel), existing[rel]) for rel in write if rel in existing]
    return CheckoutPlan(
        path,
        hash_info,
        clear=clear,
        extra=tuple(os.path.join(path, rel) for rel in extra),
        write=tuple((os.path.join(path, rel), wanted[rel]) for rel in write),
        absent=frozenset(os.path.join(path, rel) for rel in write if rel not in existing),
        discarded=tuple(discarded),
        missing=tuple(os.path.join(path, rel) for rel in sorted(missing)),
        existed=os.path.lexists(path),
        relinked=frozenset(os.path.join(path, rel) for rel in relinked),
    )


def _below(files: dict[str, _T], only: str | None) -> dict[str, _T]:
    """The entries of `files` (by relative path) at or below `only` (None: all)."""
    if only is None:
        return files
    prefix = only.rstrip("/") + "/"
    return {rel: v for rel, v in files.items() if rel == only or rel.startswith(prefix)}


def unsaved_files(plan: CheckoutPlan, odb: ObjectDB, state: StateDB) -> list[str]:
    """Paths the plan would delete or overwrite whose content is not in the cache.

    Files are hashed through the state, so those llmpipe wrote cost no reading.
    A linker's temporary file (left by a checkout that was killed) is no one's work.
    """
    files = [(path, st) for path, st in plan.discarded if not is_link_temp(path)]
    values = hash_files("", files, odb.hash_name, state)
    return [path for (path, _), value in zip(files, values, strict=True) if not odb.exists(value)]


def apply_checkout(
    plan: CheckoutPlan,
    odb: ObjectDB,
    link_types: Sequence[str],
    state: StateDB,
    guard: PathGuard,
) -> CheckoutResult:
    """Carry `plan` out; every path is checked by `guard` before it is written."""
    if plan.clear:
        guard.check_write(plan.path)
        remove(plan.path)
    for path in plan.extra:
        guard.check_write(path)
        remove(path)
    _link(odb, Linker(link_types), state, plan, guard)
    if plan.extra:
        _remove_empty_dirs(plan.path)
    return CheckoutResult(plan.changed, plan.missing)


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
    return {
        rel: value
        for (rel, _), value in zip(candidates, values, strict=True)
        if value == wanted[rel]
    }


def _size_matches(odb: ObjectDB, value: str, st: os.stat_result) -> bool:
    try:
        return os.stat(odb.oid_path(value)).st_size == st.st_size
    except FileNotFoundError:
        return False


def _link(
    odb: ObjectDB, linker: Linker, state: StateDB, plan: CheckoutPlan, guard: PathGuard
) -> None:
    """Link each (workspace path, hash) of the plan and record the new stats in the state.

    Paths in `plan.absent` did not exist when the workspace was read: they are
    created in place, without the temporary sibling that replacing a file needs.
    """
    absent: Container[str] = plan.absent
    isexec = plan.hash_info.isexec and not plan.hash_info.isdir

    def link_one(item: tuple[str, str]) -> tuple[str, os.stat_result, str]:
        path, value = item
        guard.check_write(path)
        if path in absent:
            linker.link_new(odb.oid_path(value), path, isexec=isexec)
        else:
            linker.link(odb.oid_path(value), path, isexec=isexec)
        return path, os.stat(path), value

    todo = list(plan.write)
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
