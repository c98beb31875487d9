"""`gc` of the cache: remove the objects that nothing kept uses.

(`add` is `ops.add`'s, `checkout` `ops.checkout`'s.) It holds the repository lock
and is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cache.gc import GcResult, gc
from ..errors import LlmpipeError
from ..outputs import revision_outputs, workspace_outputs
from ..registry.kept import registered_outputs
from ..run.repolock import repo_lock
from .audit import audited

if TYPE_CHECKING:
    from ..compare.revisions import RevisionChoice
    from ..project import Project


@audited("gc")
def collect_garbage(
    project: Project,
    workspace: bool,
    dry: bool = False,
    revisions: RevisionChoice | None = None,
    drop_unaliased: bool = False,
) -> GcResult:
    """Remove cache objects that the workspace's lock and .dvc files do not use.

    With `revisions` (branches, tags, commits), what their committed lock and
    .dvc files record is kept as well; the workspace is always kept then. The
    artifact of every registered model version is kept too (with `drop_unaliased`,
    only of those an alias points at).
    """
    chosen = revisions is not None and (
        revisions.revs or revisions.all_branches or revisions.all_tags or revisions.all_commits
    )
    if not workspace and not chosen:
        raise LlmpipeError(
            "say which objects to keep: -w/--workspace keeps those the workspace uses;"
            " -a/--all-branches, -T/--all-tags, --all-commits keep those revisions' too"
        )
    with repo_lock(project.tmp_dir):
        used = [out.info for out in workspace_outputs(project.root, project.stages())]
        used.extend(out.info for out in registered_outputs(project.root, drop_unaliased))
        if chosen:
            from ..compare.revisions import revision_commits

            commits = revision_commits(project.root, revisions)  # type: ignore[arg-type]
            used.extend(out.info for out in revision_outputs(project.root, commits))
        return gc(project.odb, used, dry=dry)
