"""Moving objects between a cache and the remote, for the driver and the workers alike."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..cache.odb import ObjectDB
from ..config import RemoteConfig
from ..errors import RemoteError
from ..progress import NoProgress
from ..remote.layout import Layout
from ..remote.objects import expand
from ..remote.transfer import (
    TransferResult,
    download_task,
    ordered_for_push,
    run_tasks,
    upload_task,
)
from ..stage import HashInfo

JOBS = 4


def push_objects(
    odb: ObjectDB, layout: Layout, remote: RemoteConfig, oids: Iterable[str], scratch: str
) -> TransferResult:
    """Send the objects of `oids` that the remote lacks (files first, `.dir` last)."""
    wanted = list(dict.fromkeys(oids))
    there = layout.present(wanted, JOBS)
    files, dirs = ordered_for_push(oid for oid in wanted if oid not in there)
    task = upload_task(odb, layout, scratch)
    result = run_tasks(files, task, remote, _jobs(files), NoProgress())
    _raise_failed(result, remote, "send")
    result += run_tasks(dirs, task, remote, _jobs(dirs), NoProgress())
    _raise_failed(result, remote, "send")
    return result


def fetch_objects(
    odb: ObjectDB, layout: Layout, remote: RemoteConfig, infos: Iterable[HashInfo], scratch: str
) -> TransferResult:
    """Bring every object of `infos` (a `.dir` and its entries) into `odb`, verified;
    objects already there are not moved again."""
    infos = list(infos)
    task = download_task(odb, layout, scratch, verify=True)
    dirs = list(dict.fromkeys(i.value for i in infos if i.isdir and not odb.exists(i.value)))
    result = run_tasks(dirs, task, remote, _jobs(dirs), NoProgress())
    _raise_failed(result, remote, "fetch")
    wanted = dict.fromkeys(oid for info in infos for oid in expand(odb, info))
    todo = [oid for oid in wanted if not odb.exists(oid)]
    result += run_tasks(todo, task, remote, _jobs(todo), NoProgress())
    _raise_failed(result, remote, "fetch")
    return result


def _jobs(oids: list[str]) -> int:
    """Threads for a transfer: a stage often moves one or two objects, for which starting
    a pool costs more than the copy (on a folder remote) it would overlap."""
    return 1 if len(oids) <= 2 else JOBS


def object_bytes(odb: ObjectDB, oids: Iterable[str]) -> int:
    return sum(os.path.getsize(odb.oid_path(oid)) for oid in oids)


def _raise_failed(result: TransferResult, remote: RemoteConfig, verb: str) -> None:
    if result.failed:
        first = result.failed[0]
        raise RemoteError(
            f"could not {verb} {len(result.failed)} object(s) through remote '{remote.name}'"
            f" ({first.oid}: {first.reason})"
        )
