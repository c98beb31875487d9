"""`gc` of the cache: remove the objects that nothing kept uses.

(`add` is `ops.add`'s, `checkout` `ops.checkout`'s.) It holds the repository lock
and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..cache.gc import GcResult, gc
from ..cache.odb import ObjectDB
from ..errors import LlmpipeError
from ..hashing import LEGACY_MD5
from ..outputs import revision_outputs, workspace_outputs
from ..registry.kept import registered_outputs
from ..run.repolock import repo_lock
from .audit import audited

if TYPE_CHECKING:
    from ..ckpt.prune import CheckpointSweep
    from ..ckpt.records import CheckpointRecord
    from ..compare.revisions import RevisionChoice
    from ..project import Project
    from ..stage import HashInfo


@dataclass(frozen=True)
class GcReport:
    """What `gc` removed from DVC 3's cache, DVC 2's (`legacy`) and, with `cloud`, the
    remote; `removed`, `kept` and `bytes_freed` add up the two caches."""

    cache: GcResult
    legacy: GcResult
    remote: GcResult | None = None
    remote_name: str | None = None
    # Checkpoint records removed from the remote (`dry`: that would be).
    checkpoints: tuple[CheckpointRecord, ...] = ()

    @property
    def removed(self) -> int:
        return self.cache.removed + self.legacy.removed

    @property
    def kept(self) -> int:
        return self.cache.kept + self.legacy.kept

    @property
    def bytes_freed(self) -> int:
        return self.cache.bytes_freed + self.legacy.bytes_freed


@dataclass(frozen=True)
class GcRequest:
    """What `gc` keeps beyond the workspace (dvc's flags) and where it collects."""

    workspace: bool = False
    revisions: RevisionChoice | None = None
    dry: bool = False
    drop_unaliased: bool = False
    cloud: bool = False  # also remove from the remote (`-c`)
    remote: str | None = None  # which one (default: the default remote)
    jobs: int | None = None


@audited("gc")
def collect_garbage(project: Project, request: GcRequest) -> GcReport:
    """Remove cache objects that the workspace's lock and .dvc files do not use.

    With `revisions` (branches, tags, commits), what their committed lock and
    .dvc files record is kept as well; the workspace is always kept then. The
    artifact of every registered model version is kept too (with `drop_unaliased`,
    only of those an alias points at). With `cloud`, the remote loses what the
    cache loses (it needs the `push` permission under an access policy).
    """
    revisions = request.revisions
    if not request.workspace and not (revisions is not None and revisions.any):
        raise LlmpipeError(
            "say which objects to keep: -w/--workspace keeps those the workspace uses;"
            " -a/--all-branches, -T/--all-tags, -A/--all-commits, --rev keep those"
            " revisions' too"
        )
    with repo_lock(project.tmp_dir):
        used = _used(project, request)
        remote = project.config.remote(request.remote) if request.cloud else None
        if remote is not None:
            from .transfer import require_transfer_rights

            require_transfer_rights(project, [remote], upload=True)
        cache = gc(project.odb, used, dry=request.dry)
        legacy = gc(ObjectDB(project.cache_dir, LEGACY_MD5), used, dry=request.dry)
        if remote is None:
            return GcReport(cache, legacy)
        from ..remote.gc import gc_remote

        sweep = _checkpoint_sweep(project, remote.name, used)
        swept = gc_remote(project, remote, used, dry=request.dry, jobs=request.jobs, keeper=sweep)
        return GcReport(cache, legacy, swept, remote.name, tuple(sweep.removed))


def _checkpoint_sweep(project: Project, remote_name: str, used: list[HashInfo]) -> CheckpointSweep:
    """Which checkpoint records on remote `remote_name` retention lets go (`ckpt.prune`)."""
    from ..ckpt.prune import CheckpointSweep
    from ..ckpt.spec import checkpoint_spec

    specs = {}
    for stage in project.stages():
        spec = checkpoint_spec(stage)
        if spec is None:
            continue
        out = next(o for o in stage.outs if o.path == spec.path)
        if (out.remote or project.config.default_remote) == remote_name:
            specs[stage.address] = spec
    return CheckpointSweep(specs, {info.value for info in used}, project.odb.hash_name)


def _resumable_checkpoints(project: Project) -> list[HashInfo]:
    from ..ckpt.session import resumable_trees

    return resumable_trees(project.llmpipe_dir, project.odb.hash_name)


def _used(project: Project, request: GcRequest) -> list[HashInfo]:
    used = [out.info for out in workspace_outputs(project.root, project.stages())]
    used.extend(out.info for out in registered_outputs(project.root, request.drop_unaliased))
    used.extend(_resumable_checkpoints(project))
    if request.revisions is not None and request.revisions.any:
        from ..compare.revisions import revision_commits

        commits = revision_commits(project.root, request.revisions)
        used.extend(out.info for out in revision_outputs(project.root, commits))
    return used
