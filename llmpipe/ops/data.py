"""Data outside stages: `add` (track with a .dvc file) and `gc` of the cache.

`checkout` is `ops.checkout`'s.

Each verb holds the repository lock and is audited with the paths it touched.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..cache.gc import GcResult, gc
from ..cache.save import save
from ..errors import LlmpipeError, SpecError
from ..fsutil import is_inside
from ..gitignore import ignore_output
from ..graph import build_graph
from ..outputs import revision_outputs, workspace_outputs
from ..pathguard import PathGuard, protected_component
from ..run.repolock import repo_lock
from ..stage import HashInfo
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..compare.revisions import RevisionChoice
    from ..progress import Progress
    from ..project import Project


@dataclass(frozen=True)
class Added:
    path: str
    dvcfile: str
    hash_info: HashInfo


def describe_added(added: list[Added]) -> tuple[Targets, Outcome]:
    return [{"path": a.path, "hash": a.hash_info.value} for a in added], Outcome()


@audited("add", describe=describe_added)
def add(project: Project, paths: Sequence[str], progress: Progress | None = None) -> list[Added]:
    """Track files or directories with `.dvc` files, saving them to the cache."""
    from ..spec import write_dvcfile

    relpaths = [_repo_relpath(project, p) for p in paths]
    graph = build_graph(s for s in project.stages() if not s.is_data_source)
    for relpath in relpaths:
        producer = graph.producer_of(relpath)
        if producer is not None:
            raise SpecError(
                f"'{relpath}' is an output of stage '{producer}'; it is already tracked "
                "(run 'llmpipe repro' instead of adding it)"
            )
    guard = PathGuard(project.root)
    for relpath in relpaths:
        guard.check_output(os.path.join(project.root, relpath))  # save links back in place
    added = []
    with repo_lock(project.tmp_dir):
        for relpath in relpaths:
            info = save(
                os.path.join(project.root, relpath),
                project.odb,
                project.state,
                project.config.link_types,
                progress,
                ignore=project.ignore,
            )
            dvcfile = relpath + ".dvc"
            write_dvcfile(project.root, dvcfile, posixpath.basename(relpath), info)
            ignore_output(project.root, relpath)
            project.links.record([relpath])
            added.append(Added(relpath, dvcfile, info))
    return added


def _repo_relpath(project: Project, path: str) -> str:
    absolute = os.path.abspath(path)
    if not is_inside(absolute, project.root) or absolute == project.root:
        raise SpecError(f"'{path}' is outside the project at '{project.root}'")
    if not os.path.exists(absolute):
        raise SpecError(f"'{path}' does not exist")
    relpath = os.path.relpath(absolute, project.root).replace(os.sep, "/")
    if protected_component(relpath) is not None:
        raise SpecError(f"'{path}' is inside llmpipe's or git's own folders; it cannot be added")
    return relpath


@audited("gc")
def collect_garbage(
    project: Project, workspace: bool, dry: bool = False, revisions: RevisionChoice | None = None
) -> GcResult:
    """Remove cache objects that the workspace's lock and .dvc files do not use.

    With `revisions` (branches, tags, commits), what their committed lock and
    .dvc files record is kept as well; the workspace is always kept then.
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
        if chosen:
            from ..compare.revisions import revision_commits

            commits = revision_commits(project.root, revisions)  # type: ignore[arg-type]
            used.extend(out.info for out in revision_outputs(project.root, commits))
        return gc(project.odb, used, dry=dry)
