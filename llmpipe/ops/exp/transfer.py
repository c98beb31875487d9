"""`exp push` and `exp pull`: experiments' git refs to and from a git remote, their
outputs to and from the data remote, as dvc moves them.

The refs keep dvc's layout on the remote (`refs/exps/…`), so a dvc clone pulls
llmpipe's experiments and the reverse. The outputs an experiment commit records
(its dvc.lock and `.dvc` files, read from git objects) go through the same
transfer engine, access checks and verification as `push` and `fetch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import scm
from ...errors import ExperimentError
from ...outputs import revision_outputs
from ...remote.ops import TransferPlan, TransferRequest, run_transfer, with_outputs
from ...run.repolock import repo_lock
from ..audit import Outcome, Targets, audited
from ..transfer import describe_transfer, require_transfer_rights
from .manage import list_experiments
from .refs import ExpRef, experiments, find, remote_experiments

if TYPE_CHECKING:
    from ...project import Project
    from ...remote.transfer import TransferResult


@dataclass(frozen=True)
class ExpSelection:
    """Which experiments: by name, of these baselines (default HEAD), or all."""

    names: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    all_commits: bool = False


@dataclass(frozen=True)
class DataOptions:
    """The data side: skipped with `cache=False`; `remote`, `jobs` and `run_cache` (the
    run-cache too, dvc's `--run-cache`) as in `push`."""

    cache: bool = True
    remote: str | None = None
    jobs: int | None = None
    run_cache: bool = False


@dataclass(frozen=True)
class ExpTransfer:
    """The experiments moved, and what moved of their outputs (None when not asked)."""

    exps: tuple[ExpRef, ...]
    data: TransferResult | None = None


def describe_exp_transfer(result: ExpTransfer) -> tuple[Targets, Outcome]:
    targets: Targets = [
        {"path": e.ref, "hash": e.commit, "experiment": e.name} for e in result.exps
    ]
    if result.data is None:
        return targets, Outcome()
    data_targets, outcome = describe_transfer(result.data)
    return targets + data_targets, outcome


@audited("exp push", describe=describe_exp_transfer)
def push(
    project: Project,
    git_remote: str,
    selection: ExpSelection = ExpSelection(),
    data: DataOptions = DataOptions(),
    force: bool = False,
) -> ExpTransfer:
    """Push the selected experiments' refs to `git_remote` (`force` overwrites diverged
    ones there), then their outputs to the data remote."""
    return _sync(project, ("push", git_remote), _local(project, selection), data, force, True)


@audited("exp pull", describe=describe_exp_transfer)
def pull(
    project: Project,
    git_remote: str,
    selection: ExpSelection = ExpSelection(),
    data: DataOptions = DataOptions(),
    force: bool = False,
) -> ExpTransfer:
    """Fetch the selected experiments' refs from `git_remote` (`force` overwrites diverged
    local ones), then their outputs from the data remote into the cache."""
    chosen = _remote(project, git_remote, selection)
    return _sync(project, ("fetch", "--no-tags", git_remote), chosen, data, force, False)


def _sync(project: Project, git_command: tuple[str, ...], chosen: list[ExpRef],
          data: DataOptions, force: bool, upload: bool) -> ExpTransfer:  # fmt: skip
    """Move `chosen`'s refs with `git_command` (push or fetch), then their outputs."""
    with repo_lock(project.tmp_dir):
        if chosen:
            refspecs = [f"{'+' if force else ''}{e.ref}:{e.ref}" for e in chosen]
            scm.run_git(project.root, *git_command, *refspecs)
        moved = _move_data(project, chosen, data, upload=upload)
    return ExpTransfer(tuple(chosen), moved)


def _local(project: Project, selection: ExpSelection) -> list[ExpRef]:
    if selection.all_commits:
        return experiments(project.root)
    if selection.names:
        head = scm.head_commit(project.root)
        return [find(project.root, name, head) for name in dict.fromkeys(selection.names)]
    grouped = list_experiments(project, selection.baselines)
    return [exp for exps in grouped.values() for exp in exps]


def _remote(project: Project, git_remote: str, selection: ExpSelection) -> list[ExpRef]:
    held = remote_experiments(project.root, git_remote)
    if selection.all_commits:
        return held
    if selection.names:
        found = []
        for name in dict.fromkeys(selection.names):
            matches = [e for e in held if name in (e.name, e.ref)]
            if not matches:
                raise ExperimentError(f"git remote '{git_remote}' holds no experiment '{name}'")
            found += matches
        return found
    scm.clear_cache()
    wanted = set(selection.baselines) or {scm.head_commit(project.root)}
    return [exp for exp in held if exp.baseline in wanted]


def _move_data(
    project: Project, exps: Sequence[ExpRef], data: DataOptions, upload: bool
) -> TransferResult | None:
    if not data.cache or not exps:
        return None
    if not project.config.remotes and data.remote is None:
        project.notices.append(
            "no data remote is configured: the experiments' outputs were not moved"
            " (add one with 'llmpipe remote add -d', or pass --no-cache)"
        )
        return None
    outputs = revision_outputs(project.root, [exp.commit for exp in exps])
    plan = with_outputs(project, TransferPlan(), outputs, data.remote, upload)
    if data.run_cache:
        runs = project.config.remote(data.remote)
        plan = TransferPlan({runs.name: [], **plan.groups}, {runs.name: runs, **plan.remotes},
                            runs.name)  # fmt: skip
    require_transfer_rights(project, plan.remotes.values(), upload=upload)
    request = TransferRequest(remote=data.remote, jobs=data.jobs, run_cache=data.run_cache)
    return run_transfer(project, plan, request, None, upload=upload)
