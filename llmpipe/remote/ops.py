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
from ..errors import LlmpipeError
from ..outputs import UsedOutput, used_outputs
from ..progress import NoProgress, TransferProgress
from .objects import expand, object_names
from .transfer import (
    Missing,
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
    """What to move: the outputs of `targets` (default: all) in the workspace, and with
    `all_branches`, `all_tags`, `all_commits` those of every branch, tag or commit
    (dvc's `-a`, `-T`, `-A`)."""

    targets: tuple[str, ...] = ()
    remote: str | None = None
    jobs: int | None = None
    run_cache: bool = False
    all_branches: bool = False
    audit: bool = True  # also share the audit trail (llmpipe/audit/ on the remote)
    all_tags: bool = False
    all_commits: bool = False


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


def _revision_commits(repo: Project, request: TransferRequest) -> list[str]:
    """The commits whose outputs `request` adds to the workspace's (`-a`, `-T`, `-A`)."""
    if not (request.all_branches or request.all_tags or request.all_commits):
        return []
    from ..compare.revisions import RevisionChoice, revision_commits

    choice = RevisionChoice(
        (), request.all_branches, request.all_tags, request.all_commits, workspace=False
    )
    return revision_commits(repo.root, choice)


@dataclass(frozen=True)
class TransferPlan:
    """Which used outputs go to (or come from) which remote."""

    groups: dict[str, list[UsedOutput]] = field(default_factory=dict)
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)
    runs: str | None = None  # the remote the run-cache goes to (or comes from)


def plan_transfer(
    repo: Project, request: TransferRequest, upload: bool, skip_cached: bool = False
) -> TransferPlan:
    """Group the outputs `request` names by the remote each goes to.

    `skip_cached` (fetch) leaves out outputs whose objects are all in the cache: with
    nothing to fetch, no remote is needed (dvc's `pull` then succeeds without one).
    """
    outputs = used_outputs(
        repo.root, repo.stages(), request.targets, _revision_commits(repo, request)
    )
    if skip_cached:
        from ..cache.complete import in_cache

        outputs = [out for out in outputs if not in_cache(repo.odb, out.info)]
    groups = _by_remote(repo, outputs, request.remote, pushing=upload)
    runs = repo.config.remote(request.remote).name if request.run_cache else None
    if runs is not None and runs not in groups:
        groups[runs] = []
    remotes = {name: repo.config.remote(name) for name in groups}
    return TransferPlan(groups, remotes, runs)


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
    """Push (`upload`) or fetch per remote, then share the audit trail.

    The trail (`llmpipe/audit/` on the remote, llmpipe's only files on a plain remote)
    goes up only with a push of the whole workspace: a push of named targets sends
    their objects and nothing else.
    """
    result = TransferResult()
    move = _push_to if upload else _fetch_from
    for name, outs in plan.groups.items():
        leg = _Leg(plan.remotes[name], outs, request, progress or NoProgress(), name == plan.runs)
        result += move(repo, leg)
    shared = request.audit and not (upload and request.targets)
    if shared and (request.remote or repo.config.default_remote):
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
    runs: bool = False  # the run-cache travels with this leg


def _push_to(repo: Project, leg: _Leg) -> TransferResult:
    """Send what the remote lacks. Objects in neither the cache nor the remote are
    reported (`missing`) and the rest is sent, as dvc does; a `.dir` goes up only
    once all its entries are there (a later push completes it)."""
    remote, request, progress = leg.remote, leg.request, leg.progress
    with _connected(repo, leg, create=True) as layout:
        jobs = _jobs(request, remote, layout)
        result, outs = _with_run_cache(repo, leg, layout, jobs, upload=True)
        names = object_names(repo.odb, outs)
        cached = repo.odb.existing(names)
        local = [oid for oid in names if oid in cached]
        absent = [oid for oid in names if oid not in cached]
        there = _present(layout, local + absent, remote, jobs)
        missing = tuple(Missing(oid, names[oid]) for oid in absent if oid not in there)
        files, dirs = ordered_for_push(oid for oid in local if oid not in there)
        task = upload_task(repo.odb, layout, _scratch(repo))
        progress.start(f"pushing to {remote.name}", len(files) + len(dirs))
        result += run_tasks(files, task, remote, jobs, progress)
        failed = {f.oid for f in result.failed} | {m.oid for m in missing}
        # With nothing failed every entry is there: no manifest is read again.
        ready = [d for d in dirs if not (failed and _entries_failed(repo, d, failed))]
        result += run_tasks(ready, task, remote, jobs, progress)
    skipped = sum(1 for oid in local if oid in there)
    return result + TransferResult(skipped=skipped, missing=missing)


def _with_run_cache(
    repo: Project, leg: _Leg, layout: Layout, jobs: int, upload: bool
) -> tuple[TransferResult, list[UsedOutput]]:
    """Sync the run-cache first when it travels with this leg; the leg's outputs plus
    those its entries record (their objects travel too, as with dvc)."""
    if not leg.runs:
        return TransferResult(), leg.outs
    moved, entries = _sync_runs(repo, layout, leg.remote, jobs, upload=upload)
    return moved, leg.outs + _run_cache_outputs(repo, entries)


def _run_cache_outputs(repo: Project, entries: list[str]) -> list[UsedOutput]:
    """The outputs that run-cache entries (paths under the cache, `runs/…`) record."""
    from ..lockfile import hashes_in
    from ..yamlio import load_yaml

    found = []
    for relpath in entries:
        path = os.path.join(repo.cache_dir, relpath)
        try:
            with open(path, encoding="utf-8") as handle:
                entry = load_yaml(handle.read(), path)
        except (OSError, LlmpipeError):
            continue  # a damaged entry is a run-cache miss, not a transfer failure
        if isinstance(entry, dict):
            found.extend(UsedOutput(p, info) for p, info in hashes_in(entry, "outs").items())
    return found


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
    remote, request, progress = leg.remote, leg.request, leg.progress
    with _connected(repo, leg, create=False) as layout:
        jobs = _jobs(request, remote, layout)
        result, outs = _with_run_cache(repo, leg, layout, jobs, upload=False)
        task = download_task(repo.odb, layout, _scratch(repo), verify=remote.verify)
        # Directory manifests first: their entries are only known once they are here.
        dirs = [o.info.value for o in outs if o.info.isdir and not repo.odb.exists(o.info.value)]
        progress.start(f"fetching from {remote.name}", None)
        result += run_tasks(list(dict.fromkeys(dirs)), task, remote, jobs, progress)
        failed = {f.oid for f in result.failed}  # reported once, not tried again below
        wanted = [oid for oid in object_names(repo.odb, outs) if oid not in failed]
        cached = repo.odb.existing(wanted)
        todo = [oid for oid in wanted if oid not in cached]
        progress.start(f"fetching from {remote.name}", len(todo))
        object_jobs = _fetch_jobs(request, remote, layout, todo)
        result += run_tasks(todo, task, remote, object_jobs, progress)
    return result + TransferResult(skipped=len(wanted) - len(todo))


def _sync_runs(
    repo: Project, layout: Layout, remote: RemoteConfig, jobs: int, upload: bool
) -> tuple[TransferResult, list[str]]:
    """Copy run-cache entries (`runs/…`) that the other side lacks; plain remotes only.

    Returns the result and every entry of the sending side (their outputs travel too).
    """
    from .backends import LocalBackend

    if layout.cipher is not None:
        raise LlmpipeError(
            f"remote '{remote.name}' is encrypted; --run-cache is only supported on plain remotes"
        )
    local = LocalBackend(repo.cache_dir)
    there = _run_entries(layout.backend)
    here = _run_entries(local)
    source, target = (local, layout.backend) if upload else (layout.backend, local)
    todo = sorted((here - there) if upload else (there - here))

    def copy(relpath: str) -> int:
        data = source.get_bytes(relpath)
        target.put_bytes(relpath, data)
        return len(data)

    moved = run_tasks(todo, copy, remote, jobs, NoProgress())
    return moved, sorted(here if upload else there)


def _run_entries(backend) -> set[str]:  # noqa: ANN001
    """The run-cache entries a backend holds (temporaries of interrupted writes left out)."""
    return {p for p in backend.list_files("runs") if not p.rsplit("/", 1)[-1].startswith(".")}
