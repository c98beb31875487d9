"""Objects sent straight to a remote from a scratch object store, never entering the
project's cache: `import-url --to-remote` and `update --to-remote`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..progress import NoProgress
from .ops import TransferRequest, _jobs, _present, _scratch, open_layout
from .transfer import TransferResult, ordered_for_push, run_tasks, upload_task

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..project import Project


def push_objects(
    repo: Project, odb: ObjectDB, oids: Iterable[str], remote_name: str | None
) -> TransferResult:
    """Send the objects `oids` of `odb` that the remote (default: the project's) lacks;
    the files first, then the `.dir` objects, which promise their entries."""
    remote = repo.config.remote(remote_name)
    layout = open_layout(repo, remote, create=True)
    try:
        jobs = _jobs(TransferRequest(), remote, layout)
        oids = list(dict.fromkeys(oids))
        there = _present(layout, oids, remote, jobs)
        files, dirs = ordered_for_push(oid for oid in oids if oid not in there)
        task = upload_task(odb, layout, _scratch(repo))
        result = run_tasks(files, task, remote, jobs, NoProgress())
        if not result.failed:
            result += run_tasks(dirs, task, remote, jobs, NoProgress())
    finally:
        layout.backend.close()
    return result
