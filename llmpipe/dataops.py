"""Data outside stages: `add` (track with a .dvc file), `checkout` and `gc` of the cache."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cache.checkout import CheckoutPlan, apply_checkout, plan_checkout, unsaved_files
from .cache.gc import GcResult, gc
from .cache.save import save
from .errors import LlmpipeError, SpecError, UnsavedChangesError
from .fsutil import is_inside
from .gitignore import ignore_output
from .graph import build_graph, resolve_targets
from .outputs import revision_outputs, workspace_outputs
from .pathguard import PathGuard, protected_component
from .stage import HashInfo, Stage

if TYPE_CHECKING:
    from .cache.progress import Progress
    from .compare.revisions import RevisionChoice
    from .repo import Repo


@dataclass(frozen=True)
class Added:
    path: str
    dvcfile: str
    hash_info: HashInfo


def add(repo: Repo, paths: Sequence[str], progress: Progress | None = None) -> list[Added]:
    """Track files or directories with `.dvc` files, saving them to the cache."""
    from .run.repolock import repo_lock
    from .security.audit import note_target
    from .spec import write_dvcfile

    relpaths = [_repo_relpath(repo, p) for p in paths]
    graph = build_graph(s for s in repo.stages() if not s.is_data_source)
    for relpath in relpaths:
        producer = graph.producer_of(relpath)
        if producer is not None:
            raise SpecError(
                f"'{relpath}' is an output of stage '{producer}'; it is already tracked "
                "(run 'llmpipe repro' instead of adding it)"
            )
    guard = PathGuard(repo.root)
    for relpath in relpaths:
        guard.check_output(os.path.join(repo.root, relpath))  # save links back in place
    added = []
    with repo_lock(repo.tmp_dir):
        for relpath in relpaths:
            info = save(
                os.path.join(repo.root, relpath),
                repo.odb,
                repo.state,
                repo.config.link_types,
                progress,
            )
            dvcfile = relpath + ".dvc"
            write_dvcfile(repo.root, dvcfile, posixpath.basename(relpath), info)
            ignore_output(repo.root, relpath)
            added.append(Added(relpath, dvcfile, info))
            note_target(relpath, info.value)
    return added


def _repo_relpath(repo: Repo, path: str) -> str:
    absolute = os.path.abspath(path)
    if not is_inside(absolute, repo.root) or absolute == repo.root:
        raise SpecError(f"'{path}' is outside the project at '{repo.root}'")
    if not os.path.exists(absolute):
        raise SpecError(f"'{path}' does not exist")
    relpath = os.path.relpath(absolute, repo.root).replace(os.sep, "/")
    if protected_component(relpath) is not None:
        raise SpecError(f"'{path}' is inside llmpipe's or git's own folders; it cannot be added")
    return relpath


@dataclass(frozen=True)
class CheckoutSummary:
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    untracked: tuple[str, ...]  # outputs with no recorded hash yet (never run)


def checkout_outputs(
    repo: Repo, targets: Sequence[str] = (), relink: bool = False, force: bool = False
) -> CheckoutSummary:
    """Make the workspace match the recorded outputs of the targets (default: all).

    Every output is planned before any is written. Without `force`, workspace
    files that would be deleted or overwritten while their content is not in the
    cache stop the whole checkout (UnsavedChangesError), as in `dvc checkout`.
    """
    from .run.repolock import repo_lock
    from .security.audit import note_target

    graph = build_graph(repo.stages())
    chosen = resolve_targets(graph, targets) if targets else list(graph.stages)
    stages = [graph.stages[a] for a in chosen]
    changed: list[str] = []
    missing: list[str] = []
    recorded = [(out.path, out.info) for out in workspace_outputs(repo.root, stages)]
    guard = PathGuard(repo.root)
    with repo_lock(repo.tmp_dir):
        plans = [
            plan_checkout(
                repo.odb, info, os.path.join(repo.root, path), repo.state, guard, relink=relink
            )
            for path, info in recorded
        ]
        if not force:
            _refuse_unsaved(repo, plans)
        for (path, info), plan in zip(recorded, plans, strict=True):
            result = apply_checkout(plan, repo.odb, repo.config.link_types, repo.state, guard)
            if result.changed:  # one line per output, as DVC prints it
                changed.append(path + ("/" if info.isdir else ""))
                note_target(path, info.value)
            missing.extend(_relative(repo, p) for p in result.missing)
    untracked = _never_recorded(stages, {path for path, _ in recorded})
    return CheckoutSummary(tuple(changed), tuple(missing), tuple(untracked))


def _refuse_unsaved(repo: Repo, plans: list[CheckoutPlan]) -> None:
    unsaved = [
        _relative(repo, p) for plan in plans for p in unsaved_files(plan, repo.odb, repo.state)
    ]
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


def _relative(repo: Repo, path: str) -> str:
    if not os.path.isabs(path):
        return path
    return os.path.relpath(path, repo.root).replace(os.sep, "/")


def _never_recorded(stages: list[Stage], recorded: set[str]) -> list[str]:
    return [
        stage.repo_path(out.path)
        for stage in stages
        for out in stage.cached_outs
        if stage.repo_path(out.path) not in recorded
    ]


def collect_garbage(
    repo: Repo, workspace: bool, dry: bool = False, revisions: RevisionChoice | None = None
) -> GcResult:
    """Remove cache objects that the workspace's lock and .dvc files do not use.

    With `revisions` (branches, tags, commits), what their committed lock and
    .dvc files record is kept as well; the workspace is always kept then.
    """
    from .run.repolock import repo_lock

    chosen = revisions is not None and (
        revisions.revs or revisions.all_branches or revisions.all_tags or revisions.all_commits
    )
    if not workspace and not chosen:
        raise LlmpipeError(
            "say which objects to keep: -w/--workspace keeps those the workspace uses;"
            " -a/--all-branches, -T/--all-tags, --all-commits keep those revisions' too"
        )
    with repo_lock(repo.tmp_dir):
        used = [out.info for out in workspace_outputs(repo.root, repo.stages())]
        if chosen:
            from .compare.revisions import revision_commits

            commits = revision_commits(repo.root, revisions)  # type: ignore[arg-type]
            used.extend(out.info for out in revision_outputs(repo.root, commits))
        return gc(repo.odb, used, dry=dry)
