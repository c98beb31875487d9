"""Move a checkpoint snapshot's objects to and from a remote, through `remote.transfer`.

Fetches are always verified against their hashes (whatever the remote's `verify`
setting): a checkpoint is resumed from only when every byte checks out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CheckpointError
from ..progress import NoProgress
from ..remote.backends import LocalBackend
from ..remote.ops import default_jobs
from ..remote.transfer import download_task, ordered_for_push, run_tasks, upload_task

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..config import RemoteConfig
    from ..remote.layout import Layout
    from ..stage import HashInfo


def _jobs(remote: RemoteConfig, layout: Layout) -> int:
    if remote.jobs:
        return remote.jobs
    return 1 if isinstance(layout.backend, LocalBackend) else default_jobs()


def push_tree(
    odb: ObjectDB,
    layout: Layout,
    remote: RemoteConfig,
    info: HashInfo,
    scratch: str,
    sent: set[str],
) -> None:
    """Upload the `.dir` `info` and its entries that the remote lacks; `.dir` last.

    `sent` holds objects known to be there (updated); CheckpointError on a failure.
    """
    oids = [oid for _, oid in odb.read_manifest(info.value)] + [info.value]
    todo = [oid for oid in dict.fromkeys(oids) if oid not in sent]
    jobs = _jobs(remote, layout)
    there = layout.present(todo, jobs)
    files, dirs = ordered_for_push(oid for oid in todo if oid not in there)
    task = upload_task(odb, layout, scratch)
    for batch in (files, dirs):
        result = run_tasks(batch, task, remote, jobs, NoProgress())
        if result.failed:
            failure = result.failed[0]
            raise CheckpointError(f"could not push object {failure.oid}: {failure.reason}")
    sent.update(todo)


def fetch_tree(
    odb: ObjectDB, layout: Layout, remote: RemoteConfig, info: HashInfo, scratch: str
) -> None:
    """Download the `.dir` `info` and every entry the cache lacks, each verified.

    CheckpointError naming the first object that is missing or corrupt.
    """
    task = download_task(odb, layout, scratch, verify=True)
    jobs = _jobs(remote, layout)
    if not odb.exists(info.value):
        _check(run_tasks([info.value], task, remote, 1, NoProgress()).failed)
    entries = [oid for _, oid in odb.read_manifest(info.value)]
    todo = [oid for oid in dict.fromkeys(entries) if not odb.exists(oid)]
    _check(run_tasks(todo, task, remote, jobs, NoProgress()).failed)


def _check(failed: tuple) -> None:  # tuple[Failure, ...]
    if failed:
        raise CheckpointError(f"object {failed[0].oid}: {failed[0].reason}")
