"""`status -c`: per object, whether the cache and the remote agree, named as dvc names it.

Each object of a used output is `new` when only the cache has it, `deleted` when
only the remote has it, `missing` when neither does (and `ok` when both do). A
file output's object is named by the output's path, a directory's `.dir` by the
directory's and each of its files by `dir/relpath`; the entries of a `.dir` that
only the remote holds are read from the remote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..errors import CacheError
from .objects import object_names

if TYPE_CHECKING:
    from ..outputs import UsedOutput
    from ..project import Project
    from .layout import Layout
    from .ops import TransferPlan

CloudState = Literal["deleted", "new", "missing", "ok"]
STATE_ORDER: tuple[CloudState, ...] = ("deleted", "new", "missing", "ok")  # dvc's


@dataclass(frozen=True)
class CloudStatus:
    path: str  # the object's name: the output, or `dir/relpath` for a file of a directory
    remote: str
    state: CloudState


def cloud_status(repo: Project, plan: TransferPlan, jobs: int | None = None) -> list[CloudStatus]:
    """The state of every object of the planned outputs (`ok` ones included), in dvc's
    order: deleted, new, missing, ok; by name within each."""
    from .ops import _present, default_jobs, open_layout

    found = []
    for name, outs in plan.groups.items():
        config = plan.remotes[name]
        jobs_here = jobs or config.jobs or default_jobs()
        layout = open_layout(repo, config, create=False)
        try:
            objects = object_names(repo.odb, outs)
            there = _present(layout, sorted(objects), config, jobs_here)
            entries = dict(_remote_entries(repo, layout, outs, there))
            readable = [oid for oid in entries if not oid.endswith(_UNREADABLE)]
            there |= _present(layout, readable, config, jobs_here)
            for oid, entry_name in entries.items():
                objects.setdefault(oid, entry_name)
        finally:
            layout.backend.close()
        found += [CloudStatus(n, name, _state(repo, oid, there)) for oid, n in objects.items()]
    return sorted(found, key=lambda s: (STATE_ORDER.index(s.state), s.path))


_UNREADABLE = "-unreadable"


def _remote_entries(
    repo: Project, layout: Layout, outs: list[UsedOutput], there: set[str]
) -> list[tuple[str, str]]:
    """(oid, name) of the files of directories whose `.dir` only the remote holds.

    An unreadable manifest names one object that cannot exist, so that the directory
    does not pass for complete.
    """
    found = []
    for out in outs:
        if not out.info.isdir or out.info.value not in there or _readable(repo, out):
            continue
        try:
            raw = layout.backend.get_bytes(layout.path(out.info.value))
            if layout.cipher is not None:
                raw = layout.cipher.open_bytes(raw, out.info.value)
            found += [(e["md5"], f"{out.path}/{e['relpath']}") for e in json.loads(raw)]
        except Exception:  # noqa: BLE001 - an unreadable manifest counts as incomplete
            found.append((out.info.value + _UNREADABLE, f"{out.path}/(unreadable manifest)"))
    return found


def _readable(repo: Project, out: UsedOutput) -> bool:
    try:
        repo.odb.read_manifest(out.info.value)
    except CacheError:
        return False
    return True


def _state(repo: Project, oid: str, there: set[str]) -> CloudState:
    local = _in_cache(repo, oid)
    remote = oid in there
    if local and remote:
        return "ok"
    if local:
        return "new"
    return "deleted" if remote else "missing"


def _in_cache(repo: Project, oid: str) -> bool:
    try:
        return repo.odb.exists(oid)
    except CacheError:
        return False
