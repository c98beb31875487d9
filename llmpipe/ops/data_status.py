"""`data status`: tracked data changed since the last commit and since it was last recorded.

dvc's three comparisons, each by hash only: HEAD's records against the
workspace's dvc files (`committed`: changes to commit to git), those records
against the files in the workspace (`uncommitted`: changes to record with
`commit`), and the recorded objects the cache lacks (`not_in_cache`). Without
`granular`, a directory output is one entry; with it, each file inside too.
With `not_in_remote`, also the recorded objects each output's remote lacks; a
remote that cannot be reached is an error, never a silent "in remote".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .. import scm
from ..outputs import recorded_outputs
from ..revfs import GitObjects, RevTree, git_location
from ..spec import load_stages
from ..stage import Stage
from .diff import (
    DataDiff,
    Side,
    compare_sides,
    not_in_cache,
    rev_side,
    workspace_side,
)

if TYPE_CHECKING:
    from ..project import Project


@dataclass(frozen=True)
class DataStatus:
    committed: DataDiff
    uncommitted: DataDiff
    not_in_cache: list[str]
    unchanged: list[str]
    untracked: list[str] = field(default_factory=list)
    not_in_remote: list[str] = field(default_factory=list)
    git_dirty: bool = False
    empty_git: bool = False


def data_status(
    project: Project, targets: list[str] | None = None, granular: bool = False,
    untracked: bool = False, remote: str | None = None, in_remote: bool = False,
) -> DataStatus:  # fmt: skip
    """What changed, in dvc's terms; `targets` (paths) narrow it to those outputs.

    `in_remote` checks the remote (`remote`, else each output's own or the default):
    the remote errors of `status -c` when it cannot be read.
    """
    stages = project.stages()
    recorded = _recorded_side(project, stages, granular)
    workspace = _shallow(workspace_side(project, stages), granular)
    head, empty = _head_side(project, granular)
    roots = _roots(project, targets)
    uncommitted = compare_sides(_hashed(recorded), workspace, roots)
    committed = compare_sides(_hashed(head), _hashed(recorded), roots)
    unchanged = sorted(set(uncommitted.unchanged) & set(committed.unchanged))
    return DataStatus(
        committed=committed,
        uncommitted=uncommitted,
        not_in_cache=[c.path for c in not_in_cache(project, recorded, roots)],
        unchanged=unchanged,
        untracked=_untracked(project, roots) if untracked else [],
        not_in_remote=_not_in_remote(project, remote, roots, granular) if in_remote else [],
        git_dirty=scm.has_changes(project.root, untracked),
        empty_git=empty,
    )


def _recorded_side(project: Project, stages: list[Stage], granular: bool) -> Side:
    hashes = {o.path: o.info for o in recorded_outputs(project.root, stages) if o.cache}
    return _shallow(rev_side(project, stages, hashes), granular)


def _head_side(project: Project, granular: bool) -> tuple[Side, bool]:
    git_root, prefix = git_location(project.root)
    with GitObjects(git_root) as objects:
        head = objects.commit_of("HEAD")
        if head is None:
            return {}, True
        tree = RevTree(objects, head, prefix)
        stages = load_stages(tree)
        hashes = {o.path: o.info for o in recorded_outputs(tree, stages) if o.cache}
        return _shallow(rev_side(project, stages, hashes), granular), False


def _shallow(side: Side, granular: bool) -> Side:
    """Without `granular`, a directory is one entry: its files are not compared."""
    if granular:
        return side
    return {path: replace(output, files={}) for path, output in side.items()}


def _hashed(side: Side) -> Side:
    """dvc compares hashes only: an output never recorded counts as absent."""
    return {path: output for path, output in side.items() if output.value is not None}


def _within(path: str, roots: list[str] | None) -> bool:
    bare = path.rstrip("/")
    return roots is None or any(bare == r or bare.startswith(r + "/") for r in roots)


def _roots(project: Project, targets: list[str] | None) -> list[str] | None:
    if not targets:
        return None
    return [
        os.path.normpath(os.path.relpath(os.path.abspath(t), project.root)).replace(os.sep, "/")
        for t in targets
    ]


def _untracked(project: Project, roots: list[str] | None) -> list[str]:
    return [f for f in scm.untracked_files(project.root) if _within(f, roots)]


def _not_in_remote(
    project: Project, remote: str | None, roots: list[str] | None, granular: bool
) -> list[str]:
    """The pushable recorded outputs (`dir/` for a directory) whose objects the remote
    lacks, sorted; with `granular`, the missing files inside directories too. A
    directory whose `.dir` is there but not every file counts as missing."""
    from .transfer import cloud_status

    outputs = {o.path: o for o in recorded_outputs(project.root, project.stages()) if o.cache}
    dirs = {path for path, out in outputs.items() if out.info.isdir}
    missing: set[str] = set()
    for state in cloud_status(project, remote):
        owner = next((d for d in dirs if state.path.startswith(d + "/")), state.path)
        out = outputs.get(owner)
        if state.state in ("ok", "deleted") or out is None or not out.push:
            continue
        missing.add(owner + "/" if owner in dirs else owner)
        if granular and owner != state.path:
            missing.add(state.path)
    return sorted(p for p in missing if _within(p, roots))
