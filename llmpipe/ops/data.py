"""Data outside stages: `add` (track with a .dvc file), `checkout` and `gc` of the cache.

Each verb holds the repository lock and is audited with the paths it touched.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..cache.checkout import CheckoutPlan, apply_checkout, plan_checkout, unsaved_files
from ..cache.gc import GcResult, gc
from ..cache.save import save
from ..errors import LlmpipeError, SpecError, UnsavedChangesError
from ..fsutil import is_inside
from ..gitignore import ignore_output
from ..graph import build_graph, resolve_targets
from ..outputs import revision_outputs, workspace_outputs
from ..pathguard import PathGuard, protected_component
from ..registry.kept import registered_outputs
from ..run.repolock import repo_lock
from ..stage import HashInfo, Stage
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
            )
            dvcfile = relpath + ".dvc"
            write_dvcfile(project.root, dvcfile, posixpath.basename(relpath), info)
            ignore_output(project.root, relpath)
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


@dataclass(frozen=True)
class CheckoutSummary:
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    untracked: tuple[str, ...]  # outputs with no recorded hash yet (never run)
    hashes: tuple[tuple[str, str], ...] = ()  # (path, hash) of each changed output


def describe_checkout(summary: CheckoutSummary) -> tuple[Targets, Outcome]:
    targets: Targets = [{"path": path, "hash": value} for path, value in summary.hashes]
    if summary.missing:
        missing = ", ".join(summary.missing)
        return targets, Outcome("failed", 1, f"missing from the cache: {missing}")
    return targets, Outcome()


@audited("checkout", describe=describe_checkout)
def checkout(
    project: Project, targets: Sequence[str] = (), relink: bool = False, force: bool = False
) -> CheckoutSummary:
    """Make the workspace match the recorded outputs of the targets (default: all).

    Every output is planned before any is written. Without `force`, workspace
    files that would be deleted or overwritten while their content is not in the
    cache stop the whole checkout (UnsavedChangesError), as in `dvc checkout`.
    """
    with repo_lock(project.tmp_dir):
        return checkout_locked(project, targets, relink=relink, force=force)


def checkout_locked(
    project: Project,
    targets: Sequence[str] = (),
    relink: bool = False,
    force: bool = False,
    link_types: Sequence[str] | None = None,
) -> CheckoutSummary:
    """`checkout` for a caller that holds the repository lock (`pull`, a sweep job's copy).

    `link_types` replaces the project's `cache.type` for this checkout.
    """
    graph = build_graph(project.stages())
    chosen = resolve_targets(graph, targets) if targets else list(graph.stages)
    stages = [graph.stages[a] for a in chosen]
    changed: list[str] = []
    missing: list[str] = []
    hashes: list[tuple[str, str]] = []
    recorded = [(out.path, out.info) for out in workspace_outputs(project.root, stages)]
    guard = PathGuard(project.root)
    odb, state = project.odb, project.state
    plans = [
        plan_checkout(odb, info, os.path.join(project.root, path), state, guard, relink=relink)
        for path, info in recorded
    ]
    if not force:
        _refuse_unsaved(project, plans)
    for (path, info), plan in zip(recorded, plans, strict=True):
        result = apply_checkout(plan, odb, link_types or project.config.link_types, state, guard)
        if result.changed:  # one line per output, as DVC prints it
            changed.append(path + ("/" if info.isdir else ""))
            hashes.append((path, info.value))
        missing.extend(_relative(project, p) for p in result.missing)
    untracked = _never_recorded(stages, {path for path, _ in recorded})
    return CheckoutSummary(tuple(changed), tuple(missing), tuple(untracked), tuple(hashes))


def _refuse_unsaved(project: Project, plans: list[CheckoutPlan]) -> None:
    odb, state = project.odb, project.state
    unsaved = [_relative(project, p) for plan in plans for p in unsaved_files(plan, odb, state)]
    if not unsaved:
        return
    listing = "".join(f"\n\t{path}" for path in unsaved)
    raise UnsavedChangesError(
        f"checkout would delete or overwrite {len(unsaved)} file(s) whose content is not in"
        f" the cache; nothing was changed, these are kept as they are:{listing}\n"
        "Save them first (llmpipe add, or llmpipe repro for stage outputs), or discard them"
        " with --force",
        tuple(unsaved),
    )


def _relative(project: Project, path: str) -> str:
    if not os.path.isabs(path):
        return path
    return os.path.relpath(path, project.root).replace(os.sep, "/")


def _never_recorded(stages: list[Stage], recorded: set[str]) -> list[str]:
    return [
        stage.repo_path(out.path)
        for stage in stages
        for out in stage.cached_outs
        if stage.repo_path(out.path) not in recorded
    ]


def _resumable_checkpoints(project: Project) -> list[HashInfo]:
    from ..ckpt.session import resumable_trees

    return resumable_trees(project.llmpipe_dir, project.odb.hash_name)


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
        used.extend(_resumable_checkpoints(project))
        if chosen:
            from ..compare.revisions import revision_commits

            commits = revision_commits(project.root, revisions)  # type: ignore[arg-type]
            used.extend(out.info for out in revision_outputs(project.root, commits))
        return gc(project.odb, used, dry=dry)
