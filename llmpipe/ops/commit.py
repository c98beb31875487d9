"""`commit`: record outputs as they are in the workspace, without running anything.

As `dvc commit`: each chosen stage's outputs are saved to the cache and its
dvc.lock entry (or `.dvc` file) records them with the current deps and params.
A stage whose deps, outputs or command changed since it was recorded is
committed only when `force` is given or `confirm` agrees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CommitRefusedError, MissingDependencyError, RunError
from ..lockfile import LockWriter, entry_for
from ..run import runcache
from ..run.context import RunContext, run_context
from ..run.repolock import repo_lock
from ..run.stage_run import save_outputs
from ..run.status import StageStatus, current_params, data_source_reasons, stage_status
from ..spec import record_dvcfile_hashes
from ..stage import HashInfo, Stage
from .audit import Outcome, Targets, audited
from .targets import project_graph, select_stages

if TYPE_CHECKING:
    from ..project import Project

Confirm = Callable[[str], bool]


@dataclass(frozen=True)
class Committed:
    address: str
    lockfile: str
    outs: tuple[tuple[str, HashInfo], ...]


def describe_committed(committed: list[Committed]) -> tuple[Targets, Outcome]:
    targets = [
        {"path": path, "hash": info.value, "stage": c.address}
        for c in committed
        for path, info in c.outs
    ]
    return targets, Outcome()


@audited("commit", describe=describe_committed)
def commit(
    project: Project,
    targets: Sequence[str] = (),
    force: bool = False,
    with_deps: bool = False,
    confirm: Confirm | None = None,
    recursive: bool = False,
    relink: bool = True,
) -> list[Committed]:
    """Record the outputs of `targets` (default: every stage) as they are now; with
    `recursive`, a directory target means the stages of every dvc file inside it;
    without `relink`, the workspace files are left as they are (the cache gets copies).

    CommitRefusedError when a stage changed and neither `force` nor `confirm` allows it;
    MissingDependencyError when a dep of a stage is missing.
    """
    with repo_lock(project.tmp_dir):
        return commit_locked(project, targets, force, with_deps, confirm, recursive, relink)


def commit_locked(
    project: Project,
    targets: Sequence[str] = (),
    force: bool = False,
    with_deps: bool = False,
    confirm: Confirm | None = None,
    recursive: bool = False,
    relink: bool = True,
) -> list[Committed]:
    """`commit` for a caller that holds the repository lock (`exp save`)."""
    graph = project_graph(project)
    addresses = select_stages(project, graph, targets, with_deps, recursive)
    chosen = [graph.stages[a] for a in addresses]
    ctx = run_context(project)
    locks = LockWriter(project.root)
    committed = []
    try:
        for stage in chosen:
            status = _status(ctx, stage, locks)
            if not force and _changed(status):
                _ask(stage, status, confirm)
            committed.append(_record(ctx, stage, status, locks, relink))
    finally:
        locks.close()
    return committed


def _status(ctx: RunContext, stage: Stage, locks: LockWriter) -> StageStatus:
    if stage.is_data_source:
        return StageStatus(stage, data_source_reasons(ctx, stage))
    return stage_status(ctx, stage, locks.entry(stage.lockfile, stage.name))


def _changed(status: StageStatus) -> bool:
    return any(r.kind != "always-changed" for r in status.reasons)


def _ask(stage: Stage, status: StageStatus, confirm: Confirm | None) -> None:
    deps = sorted({r.path for r in status.reasons if r.kind.startswith("dep") and r.path})
    outs = sorted({r.path for r in status.reasons if r.kind.startswith("out") and r.path})
    what = " and ".join(
        part
        for part in (f"dependencies {deps}" if deps else "", f"outputs {outs}" if outs else "")
        if part
    )
    message = f"{what or 'stage'} of stage '{stage.address}' changed."
    if confirm is None or not confirm(f"{message} Are you sure you want to commit it?"):
        raise CommitRefusedError(
            f"unable to commit changed stage: '{stage.address}'; use -f/--force to commit it"
        )


def _record(
    ctx: RunContext, stage: Stage, status: StageStatus, locks: LockWriter, relink: bool
) -> Committed:
    absent = [o.path for o in stage.outs if not os.path.lexists(ctx.abspath(stage, o.path))]
    if absent:
        raise RunError(f"stage '{stage.address}': output {', '.join(absent)} does not exist")
    if stage.is_data_source:
        hashes = save_outputs(ctx, stage, relink)
        record_dvcfile_hashes(ctx.root, stage.dvcfile, hashes)
        return Committed(stage.address, stage.dvcfile, _repo_paths(stage, hashes))
    missing = [d.path for d in stage.deps if d.path not in status.dep_hashes]
    if missing:
        raise MissingDependencyError(
            f"stage '{stage.address}': dependency {', '.join(missing)} does not exist;"
            " create it before committing the stage"
        )
    hashes = save_outputs(ctx, stage, relink)
    entry = entry_for(stage, status.dep_hashes, current_params(ctx, stage), hashes)
    locks.update(stage.lockfile, stage.name, entry)
    if runcache.cacheable(stage):
        runcache.save(ctx.runs_dir, entry, stage.name)
    return Committed(stage.address, stage.lockfile, _repo_paths(stage, hashes))


def _repo_paths(stage: Stage, hashes: dict[str, HashInfo]) -> tuple[tuple[str, HashInfo], ...]:
    return tuple((stage.repo_path(path), info) for path, info in sorted(hashes.items()))
