"""`exp run` and `exp save`: reproduce (or not) in the workspace, then commit it as an experiment.

As in dvc, an experiment runs in the workspace: `-S` overrides rewrite
params.yaml, the pipeline is reproduced, and the results stay in the workspace
while the experiment commit (see `save`) keeps them under `refs/exps/…`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ... import scm
from ...run.repolock import repo_lock
from ..audit import Outcome, Targets, audited
from ..repro import ReproRequest, describe_repro, reproduce
from .save import SavedExp, baseline_of, save_locked, save_message, save_paths

if TYPE_CHECKING:
    from ...progress import Progress
    from ...project import Project
    from ...run.reporter import Reporter
    from ...run.scheduler import ReproResult


@dataclass(frozen=True)
class ExpRunResult:
    """The run, and the experiment it was saved as (None when a stage failed or a dry run)."""

    repro: ReproResult
    saved: SavedExp | None = None
    params_changed: tuple[str, ...] = field(default=())


def describe_run(result: ExpRunResult) -> tuple[Targets, Outcome]:
    targets, outcome = describe_repro(result.repro)
    if result.saved is not None:
        exp = result.saved.exp
        targets.append({"path": exp.ref, "hash": exp.commit, "experiment": exp.name})
    return targets, outcome


def describe_saved(saved: SavedExp) -> tuple[Targets, Outcome]:
    return [{"path": saved.exp.ref, "hash": saved.exp.commit, "experiment": saved.exp.name}], (
        Outcome()
    )


@audited("exp run", describe=describe_run)
def run_experiment(
    project: Project,
    request: ReproRequest,
    name: str | None = None,
    force_name: bool = False,
    reporter: Reporter | None = None,
    progress: Progress | None = None,
) -> ExpRunResult:
    """Reproduce with `request` (its `overrides` are `-S`), then save the workspace as
    experiment `name` on HEAD. Nothing is saved when a stage fails or on a dry run."""
    baseline_of(project)  # fail before running anything outside a git history
    result = reproduce(project, request, reporter, progress, audit=False)
    if request.dry or result.failed:
        return ExpRunResult(result, None, result.params_changed)
    with repo_lock(project.tmp_dir):
        saved = save_locked(project, name, force_name)
    return ExpRunResult(result, saved, result.params_changed)


@audited("exp save", describe=describe_saved)
def save_experiment(
    project: Project,
    name: str | None = None,
    force: bool = False,
    include_untracked: Sequence[str] = (),
    message: str | None = None,
    targets: Sequence[str] = (),
    recursive: bool = False,
) -> SavedExp:
    """Save the workspace (no run) as experiment `name` on HEAD, as `dvc exp save` does:
    the outputs of `targets` (default every stage; `recursive`: a directory means every
    stage defined inside it) are committed first, as they are (`commit -f`), so
    dvc.lock and the cache hold what the experiment records."""
    from ..commit import commit_locked

    baseline_of(project)  # before anything is committed
    with repo_lock(project.tmp_dir):
        committed = commit_locked(project, targets, force=True, recursive=recursive)
        if message is None:
            # dvc's quirk: with targets it hashes a list of lists, so no stage at all.
            hashed = [] if targets else committed
            stages = [(c.lockfile, c.address.rpartition(":")[2]) for c in hashed]
            message = save_message(project, [s for s in stages if s[0].endswith("dvc.lock")])
        paths = save_paths(project, include_untracked)
        saved = save_locked(project, name, force, message=message, paths=paths)
    return replace(saved, left_out=_left_out(project, saved.exp.commit))


def _left_out(project: Project, commit: str) -> tuple[str, ...]:
    """Files git does not track that experiment `commit` does not hold either."""
    untracked = scm.untracked_files(project.root)
    if not untracked:
        return ()
    # ls-tree run in the project lists the commit's files relative to it, as ls-files does.
    held = set(scm.run_git(project.root, "ls-tree", "-r", "-z", "--name-only", commit).split("\0"))
    return tuple(p for p in untracked if p not in held)
