"""Push and fetch: the cache objects the project uses, to and from its remotes.

Outputs go to their own `remote:` when dvc.yaml names one, else to the remote
asked for (or the default); `push: false` outputs are never pushed. Only
objects missing on the other side move. A transfer is planned first (which
outputs go to which remote: `plan_transfer`), so the verbs in `ops` can check
access to those remotes, then run (`run_transfer`). Results are values: the
caller decides what a failure means.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config import RemoteConfig
from ..outputs import UsedOutput, used_outputs
from ..progress import NoProgress, TransferProgress
from .objects import expand
from .transfer import (
    Failure,
    TransferResult,
    download_task,
    ordered_for_push,
    run_tasks,
    upload_task,
)

if TYPE_CHECKING:
    from ..project import Project
    from .layout import Layout


@dataclass(frozen=True)
class TransferRequest:
    targets: tuple[str, ...] = ()
    remote: str | None = None
    jobs: int | None = None
    run_cache: bool = False
    all_branches: bool = False
    audit: bool = True  # also share the audit trail (llmpipe/audit/ on the remote)


def default_jobs() -> int:
    """Eight transfers per core (DVC runs four).

    A network transfer mostly waits; with object_store the CPU per request is small,
    so more requests in flight pay off (measured on 2 cores: 16 beats 8 and 32).
    """
    return 8 * (os.cpu_count() or 1)


def _jobs(request: TransferRequest, remote: RemoteConfig, layout: Layout) -> int:
    from .backends import LocalBackend

    if request.jobs or remote.jobs:
        return request.jobs or remote.jobs or 1
    # Local folders: the work per object is a few system calls, which threads only
    # contend on (measured on tmpfs and ext4, 2 cores: one thread is fastest both ways).
    if isinstance(layout.backend, LocalBackend):
        return 1
    return default_jobs()


def _fetch_jobs(
    request: TransferRequest, remote: RemoteConfig, layout: Layout, oids: list[str]
) -> int:
    """`_jobs`, except that a folder fetch of large objects gets a thread per core.

    Checking a large object is an md5 pass, which runs outside the GIL, so sharded
    checkpoints verify on every core; small objects stay on one thread (see `_jobs`).
    """
    from .backends import LocalBackend

    if request.jobs or remote.jobs or not isinstance(layout.backend, LocalBackend):
        return _jobs(request, remote, layout)
    from ..cache.parallel import mostly_large

    if mostly_large(oids, lambda oid: layout.backend.local_path(layout.path(oid))):
        return os.cpu_count() or 1
    return 1


def open_layout(repo: Project, remote: RemoteConfig, create: bool) -> Layout:
    """Connect to `remote`; for encrypted remotes load the key and check it.

    `create` (push) writes the key-check blob to a fresh encrypted remote. A remote
    configured as plain that holds a key check is refused (EncryptedRemoteError).
    """
    from .layout import connect

    return connect(remote, repo.odb.hash_name, create)


def _by_remote(
    repo: Project, outputs: list[UsedOutput], chosen: str | None, pushing: bool
) -> dict[str, list[UsedOutput]]:
    groups: dict[str, list[UsedOutput]] = {}
    for out in outputs:
        if pushing and not out.push:
            continue
        name = out.remote or chosen or repo.config.remote().name
        groups.setdefault(name, []).append(out)
    return groups


@dataclass(frozen=True)
class TransferPlan:
    """Which used outputs go to (or come from) which remote."""

    groups: dict[str, list[UsedOutput]] = field(default_factory=dict)
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)


def plan_transfer(repo: Project, request: TransferRequest, upload: bool) -> TransferPlan:
    """Group the outputs `request` names by the remote each goes to."""
    outputs = used_outputs(repo.root, repo.stages(), request.targets, request.all_branches)
    groups = _by_remote(repo, outputs, request.remote, pushing=upload)
    if request.run_cache and not groups:
        groups[repo.config.remote(request.remote).name] = []
    return TransferPlan(groups, {name: repo.config.remote(name) for name in groups})


def with_outputs(
    repo: Project,
    plan: TransferPlan,
    outputs: list[UsedOutput],
    chosen: str | None,
    upload: bool,
) -> TransferPlan:
    """`plan` with `outputs` added (registered versions), each to its own remote or `chosen`."""
    groups = {name: list(outs) for name, outs in plan.groups.items()}
    for name, outs in _by_remote(repo, outputs, chosen, pushing=upload).items():
        groups.setdefault(name, []).extend(outs)
    return TransferPlan(groups, {name: repo.config.remote(name) for name in groups})


def run_transfer(
    repo: Project,
    plan: TransferPlan,
    request: TransferRequest,
    progress: TransferProgress | None,
    upload: bool,
) -> TransferResult:
    """Push (`upload`) or fetch per remote, then share the audit trail."""
    result = TransferResult()
    move = _push_to if upload else _fetch_from
    for name, outs in plan.groups.items():
        result += move(repo, _Leg(plan.remotes[name], outs, request, progress or NoProgress()))
    if request.audit:
        _share_audit(repo, request.remote, upload=upload)
    return result


def _share_audit(repo: Project, name: str | None, upload: bool) -> None:
    from .audit_sync import pull_audit, push_audit
    from .backends import translated

    remote = repo.config.remote(name)
    with translated(remote):
        if upload:
            push_audit(repo, remote)
        else:
            pull_audit(repo, remote)


@dataclass(frozen=True)
class _Leg:
    """One remote's part of a transfer: the outputs that go to (or come from) it."""

    remote: RemoteConfig
    outs: list[UsedOutput]
    request: TransferRequest
    progress: TransferProgress


def _push_to(repo: Project, leg: _Leg) -> TransferResult:
    remote, outs, request, progress = leg.remote, leg.outs, leg.request, leg.progress
    oids = dict.fromkeys(oid for out in outs for oid in expand(repo.odb, out.info))
    local = [oid for oid in oids if repo.odb.exists(oid)]
    have = set(local)
    missing_here = tuple(
        Failure(oid, "missing from the local cache") for oid in oids if oid not in have
    )
    with _connected(repo, leg, create=True) as layout:
        jobs = _jobs(request, remote, layout)
        there = _present(layout, local, remote, jobs)
        files, dirs = ordered_for_push(oid for oid in local if oid not in there)
        task = upload_task(repo.odb, layout, _scratch(repo))
        progress.start(f"pushing to {remote.name}", len(files) + len(dirs))
        result = run_tasks(files, task, remote, jobs, progress)
        failed = {f.oid for f in result.failed} | {f.oid for f in missing_here}
        ready = [d for d in dirs if not _entries_failed(repo, d, failed)]
        result += run_tasks(ready, task, remote, jobs, progress)
        if request.run_cache:
            result += _sync_runs(repo, layout, remote, jobs, upload=True)
    return result + TransferResult(failed=missing_here, skipped=len(there))


@contextlib.contextmanager
def _connected(repo: Project, leg: _Leg, create: bool) -> Iterator[Layout]:
    """The remote of `leg`, opened (see `open_layout`) and closed when done."""
    layout = open_layout(repo, leg.remote, create=create)
    try:
        yield layout
    finally:
        leg.progress.finish()
        layout.backend.close()


def _scratch(repo: Project) -> str:
    return os.path.join(repo.tmp_dir, "remote")


def _present(layout: Layout, oids: list[str], remote: RemoteConfig, jobs: int) -> set[str]:
    from .backends import translated

    with translated(remote):
        return layout.present(oids, jobs)


def _entries_failed(repo: Project, dir_oid: str, failed: set[str]) -> bool:
    return any(oid in failed for oid in expand(repo.odb, _dir_info(dir_oid, repo))[1:])


def _dir_info(oid: str, repo: Project):  # noqa: ANN202
    from ..stage import HashInfo

    return HashInfo(repo.odb.hash_name, oid)


def _fetch_from(repo: Project, leg: _Leg) -> TransferResult:
    remote, outs, request, progress = leg.remote, leg.outs, leg.request, leg.progress
    with _connected(repo, leg, create=False) as layout:
        jobs = _jobs(request, remote, layout)
        task = download_task(repo.odb, layout, _scratch(repo), verify=remote.verify)
        # Directory manifests first: their entries are only known once they are here.
        dirs = [o.info.value for o in outs if o.info.isdir and not repo.odb.exists(o.info.value)]
        progress.start(f"fetching from {remote.name}", None)
        result = run_tasks(list(dict.fromkeys(dirs)), task, remote, jobs, progress)
        failed = {f.oid for f in result.failed}  # reported once, not tried again below
        wanted = [
            oid
            for oid in dict.fromkeys(o for out in outs for o in expand(repo.odb, out.info))
            if oid not in failed
        ]
        todo = [oid for oid in wanted if not repo.odb.exists(oid)]
        progress.start(f"fetching from {remote.name}", len(todo))
        object_jobs = _fetch_jobs(request, remote, layout, todo)
        result += run_tasks(todo, task, remote, object_jobs, progress)
        if request.run_cache:
            result += _sync_runs(repo, layout, remote, jobs, upload=False)
    return result + TransferResult(skipped=len(wanted) - len(todo))


def _sync_runs(
    repo: Project, layout: Layout, remote: RemoteConfig, jobs: int, upload: bool
) -> TransferResult:
    """Copy run-cache entries (`runs/…`) that the other side lacks; plain remotes only."""
    from ..errors import LlmpipeError
    from .backends import LocalBackend

    if layout.cipher is not None:
        raise LlmpipeError(
            f"remote '{remote.name}' is encrypted; --run-cache is only supported on plain remotes"
        )
    local = LocalBackend(repo.cache_dir)
    there = set(layout.backend.list_files("runs"))
    here = set(local.list_files("runs"))
    source, target = (local, layout.backend) if upload else (layout.backend, local)
    todo = sorted((here - there) if upload else (there - here))

    def copy(relpath: str) -> int:
        data = source.get_bytes(relpath)
        target.put_bytes(relpath, data)
        return len(data)

    return run_tasks(todo, copy, remote, jobs, NoProgress())
