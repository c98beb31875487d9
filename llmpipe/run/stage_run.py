"""Bring one stage up to date: skip it, restore it from the run-cache, or run it.

Each outcome is a value (`StageOutcome`) handed back to the scheduler; errors
of the stage itself (failed command, missing output) become a failed outcome,
not an exception that would tear down other stages running beside it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from ..cache.build import build
from ..cache.complete import in_cache
from ..errors import LlmpipeError, MissingDependencyError, RunError
from ..fsutil import remove
from ..hashing import LEGACY_MD5
from ..lockfile import LockEntry, LockWriter, entry_for, hashes_in
from ..stage import HashInfo, Stage

# Saving, checking out and running are imported where used: a no-op `repro` only
# compares hashes and should not pay for importing them.
from . import runcache
from .context import RunContext
from .repolock import stage_rwlock
from .status import Reason, StageStatus, current_params, dep_hashes, stage_status

if TYPE_CHECKING:  # a no-op `repro` dispatches nothing
    from .dispatch import Executor, ExecutorFor, Notify


@dataclass
class StageOutcome:
    """What happened to one stage in a `repro`."""

    stage: Stage
    kind: str  # ran, restored, skipped, failed, would-run, frozen
    reasons: list[Reason] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None
    exit_status: int | None = None
    dep_hashes: dict[str, HashInfo] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    out_hashes: dict[str, HashInfo] = field(default_factory=dict)
    # Where an executed stage ran: the executor's name, its node and the engine's job id.
    executor: str = "local"
    node: str | None = None
    job_id: str | None = None
    # Tries before this one whose worker was lost: (the engine's reason, its job id).
    lost_attempts: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(0.0, self.ended - self.started)

    @property
    def changed_outputs(self) -> bool:
        return self.kind in ("ran", "restored", "would-run")


class RunOptions(NamedTuple):
    """How stages are brought up to date (force, dry run, run-cache, executors).

    A NamedTuple, not a dataclass (~0.35 ms at every start-up); nothing compares it.
    """

    force: bool = False
    dry: bool = False
    use_run_cache: bool = True
    # The executor of stages that name none; others come from `executors`.
    executor: str = "local"
    executors: ExecutorFor | None = None

    def executor_of(self, stage: Stage) -> str:
        return stage.executor or self.executor


def bring_up_to_date(
    ctx: RunContext,
    stage: Stage,
    lock: LockEntry | None,
    locks: LockWriter,
    options: RunOptions,
    forced: bool = False,
    announce: Callable[[Stage, list[Reason]], None] | None = None,
    events: Callable[[Stage, str, str], None] | None = None,
    judged: StageStatus | None = None,
) -> StageOutcome:
    """Decide and act for one stage; never raises for the stage's own failures.

    `announce` is told when the stage starts; `events`, what an executor reports;
    `judged`, the stage's status when `judge` already gave it."""
    started = time.time()
    try:
        status = judge(ctx, stage, lock, options.force or forced) if judged is None else judged
        if not status.changed:
            return _outcome(stage, "skipped", status, started)
        if options.dry:
            return _outcome(stage, "would-run", status, started)
        _refuse_cached_external_outputs(ctx, stage)
        if options.use_run_cache and not (options.force or forced):
            restored = _restore_from_run_cache(ctx, stage, status, locks)
            if restored is not None:
                return restored
        if announce is not None:
            announce(stage, status.reasons)
        if options.executor_of(stage) != "local" and options.executors is not None:
            executor = options.executors(options.executor_of(stage))
            notify = None if events is None else partial(events, stage)
            return _execute_elsewhere(ctx, stage, status, locks, started, executor, notify)
        return _execute(ctx, stage, status, locks, started, lock)
    except LlmpipeError as exc:
        return _failed(stage, started, exc)


def judge(ctx: RunContext, stage: Stage, lock: LockEntry | None, forced: bool) -> StageStatus:
    """Whether the stage must act, and why; reads only (a missing dep raises)."""
    status = stage_status(ctx, stage, lock)
    if status.missing_deps:
        raise MissingDependencyError(_missing_dep_message(stage, status.missing_deps))
    if forced:
        status.reasons = status.reasons or [Reason("forced")]
    return status


def decide(
    ctx: RunContext, stage: Stage, lock: LockEntry | None, forced: bool
) -> StageOutcome | StageStatus:
    """The stage's outcome when it has nothing to do (skipped, or failed: a missing dep,
    an unreadable file), else its status for `bring_up_to_date(judged=...)`; reads only."""
    started = time.time()
    try:
        status = judge(ctx, stage, lock, forced)
    except LlmpipeError as exc:
        return _failed(stage, started, exc)
    return status if status.changed else _outcome(stage, "skipped", status, started)


def _failed(stage: Stage, started: float, exc: LlmpipeError) -> StageOutcome:
    return StageOutcome(stage, "failed", started=started, ended=time.time(), error=str(exc))


def bring_frozen_up_to_date(
    ctx: RunContext, stage: Stage, lock: LockEntry | None, locks: LockWriter, dry: bool
) -> StageOutcome:
    """dvc's rule: a frozen stage never runs its command. When its outputs (or command)
    changed, the outputs are verified to exist, saved and recorded with the current
    deps; a missing one fails the stage."""
    started = time.time()
    try:
        status = stage_status(ctx, stage, lock)
        if not status.changed or dry:
            return _outcome(stage, "frozen", status, started)
        status.dep_hashes = _dep_hashes_or_fail(ctx, stage)
        status.params = current_params(ctx, stage)
        outcome = _outcome(stage, "frozen", status, started)
        outcome.out_hashes = save_outputs(ctx, stage)
        entry = entry_for(stage, status.dep_hashes, status.params, outcome.out_hashes)
        locks.update(stage.lockfile, stage.name, entry)
        outcome.ended = time.time()
        return outcome
    except LlmpipeError as exc:
        return _failed(stage, started, exc)


def _refuse_cached_external_outputs(ctx: RunContext, stage: Stage) -> None:
    """dvc 3 refuses to save an output outside the repository to the cache; llmpipe
    refuses it before the command runs (and before the old output is removed)."""
    for out in stage.outs:
        if out.cache and not stage.in_repo(out.path):
            path = os.path.normpath(ctx.abspath(stage, out.path))
            raise RunError(
                f"stage '{stage.address}': Saving cached external output {path} is not"
                " supported since DVC 3.0. See <https://dvc.org/doc/user-guide/upgrade> for"
                " more info. Set 'cache: false' on it, or write it inside the project"
            )


def frozen_missing_message(stage: Stage, missing: list[str]) -> str:
    """dvc's words for a frozen stage whose outputs are gone, and what to do."""
    source = "source" if len(missing) == 1 else "sources"
    return (
        f"failed to reproduce '{stage.address}': missing data '{source}': {', '.join(missing)}"
        " (verifying outputs in frozen stage; restore them with 'llmpipe checkout' or"
        " 'llmpipe pull', or unfreeze the stage)"
    )


def _dep_hashes_or_fail(ctx: RunContext, stage: Stage) -> dict[str, HashInfo]:
    probe = StageStatus(stage)
    hashes = dep_hashes(ctx, stage, probe)
    if probe.missing_deps:
        raise MissingDependencyError(_missing_dep_message(stage, probe.missing_deps))
    return hashes


def _missing_dep_message(stage: Stage, missing: list[str]) -> str:
    paths = ", ".join(f"'{stage.repo_path(p)}'" for p in missing)
    return (
        f"stage '{stage.address}': dependency {paths} does not exist; create it, "
        "or add the stage that produces it to dvc.yaml"
    )


def _outcome(stage: Stage, kind: str, status: StageStatus, started: float) -> StageOutcome:
    return StageOutcome(
        stage,
        kind,
        reasons=status.reasons,
        started=started,
        ended=time.time(),
        dep_hashes=status.dep_hashes,
        params=status.params,
    )


def _restore_from_run_cache(
    ctx: RunContext, stage: Stage, status: StageStatus, locks: LockWriter
) -> StageOutcome | None:
    if not runcache.cacheable(stage):
        return None
    inputs = entry_for(stage, status.dep_hashes, status.params, {})
    # Sorted by path as in the lock entry: the key hashes the list in its order.
    inputs["outs"] = [{"path": path} for path in sorted(out.path for out in stage.outs)]
    for entry in runcache.lookup(ctx.runs_dir, inputs):
        out_hashes = hashes_in(entry, "outs")
        if set(out_hashes) != {out.path for out in stage.outs}:
            continue
        if not all(in_cache(ctx.odb, info) for info in out_hashes.values()):
            continue
        started = time.time()
        uncached = {out.path for out in stage.outs if not out.cache}
        if ctx.stand_ins is not None:
            leave_in_cache(ctx, stage, out_hashes)
            return _restored(ctx, stage, status, locks, out_hashes, started)
        # Imported here, not above: most stages that run have no run-cache entry.
        from ..cache.checkout import checkout
        from ..gitignore import ignore_output

        for path, info in out_hashes.items():
            result = checkout(
                ctx.odb,
                info,
                ctx.abspath(stage, path),
                ("copy",) if path in uncached else ctx.link_types,  # as git would have it
                ctx.state,
                guard=ctx.guard,
                ignore=ctx.ignore,
            )
            if result.missing:
                break
            if path not in uncached:
                ignore_output(ctx.root, stage.repo_path(path))
        else:
            _record_links(ctx, stage)
            return _restored(ctx, stage, status, locks, out_hashes, started)
    return None


def _restored(
    ctx: RunContext,
    stage: Stage,
    status: StageStatus,
    locks: LockWriter,
    out_hashes: dict[str, HashInfo],
    started: float,
) -> StageOutcome:
    locks.update(
        stage.lockfile, stage.name, entry_for(stage, status.dep_hashes, status.params, out_hashes)
    )
    outcome = _outcome(stage, "restored", status, started)
    outcome.out_hashes = out_hashes
    return outcome


def leave_in_cache(ctx: RunContext, stage: Stage, out_hashes: dict[str, HashInfo]) -> None:
    """`--no-checkout`: cached outputs stand in the cache for their paths and the workspace
    is left as it is, but for the .gitignore files, which list them as after any run
    (dvc writes them at repro, not checkout; and an older copy must never be taken for a
    source file and shipped as one). A `cache: false` output is git's, which no
    checkout would bring: it is written as always."""
    from ..cache.checkout import checkout
    from ..gitignore import ignore_output

    assert ctx.stand_ins is not None
    for out in stage.outs:
        relpath, info = stage.repo_path(out.path), out_hashes[out.path]
        if not out.cache:
            path = os.path.join(ctx.root, relpath)
            checkout(ctx.odb, info, path, ("copy",), ctx.state, guard=ctx.guard)
            continue
        ctx.stand_ins.put(relpath, info)
        os.makedirs(os.path.dirname(os.path.join(ctx.root, relpath)), exist_ok=True)
        ignore_output(ctx.root, relpath)


def _check_out_stand_ins(ctx: RunContext, stage: Stage) -> None:
    """A stage run here reads its deps from the workspace: bring the ones --no-checkout
    left in the cache; its outputs will be in the workspace once it ran."""
    if ctx.stand_ins is None:
        return
    from ..cache.checkout import checkout

    for dep in stage.deps:
        wanted = stage.repo_path(dep.path)
        found = ctx.stand_ins.owner(wanted)
        for relpath, info in [found] if found else ctx.stand_ins.inside(wanted):
            path = os.path.join(ctx.root, relpath)
            checkout(ctx.odb, info, path, ctx.link_types, ctx.state, guard=ctx.guard)
            ctx.stand_ins.drop(relpath)
    for out in stage.outs:
        ctx.stand_ins.drop(stage.repo_path(out.path))


def _execute(
    ctx: RunContext,
    stage: Stage,
    status: StageStatus,
    locks: LockWriter,
    started: float,
    lock: LockEntry | None,
) -> StageOutcome:
    # dvc's rwlock: what this stage reads and writes, for a dvc process to see.
    reads = [ctx.abspath(stage, dep.path) for dep in stage.deps if "://" not in dep.path]
    writes = [ctx.abspath(stage, out.path) for out in stage.outs]
    with stage_rwlock(ctx.tmp_dir, reads, writes):
        _check_out_stand_ins(ctx, stage)
        return _run_and_save(ctx, stage, status, locks, started, lock)


def _run_and_save(
    ctx: RunContext,
    stage: Stage,
    status: StageStatus,
    locks: LockWriter,
    started: float,
    lock: LockEntry | None,
) -> StageOutcome:
    from .execute import run_commands

    outcome = _outcome(stage, "ran", status, started)
    for out in stage.outs:
        if not out.persist:
            remove(ctx.abspath(stage, out.path))
    try:
        with _around_command(ctx, stage, status):
            run_commands(stage, ctx.root)
    except RunError as exc:
        outcome.kind, outcome.error, outcome.ended = "failed", str(exc), time.time()
        outcome.exit_status = exc.exit_status
        return outcome
    outcome.exit_status = 0
    outcome.out_hashes = save_outputs(ctx, stage)
    _record_links(ctx, stage)
    _keep_legacy_entries(ctx, stage, lock, outcome.out_hashes)
    return _recorded(ctx, stage, status, locks, outcome)


def _execute_elsewhere(
    ctx: RunContext,
    stage: Stage,
    status: StageStatus,
    locks: LockWriter,
    started: float,
    executor: Executor,
    notify: Notify | None,
) -> StageOutcome:
    """Run the stage on `executor`; record it as a local run would be recorded."""
    outcome = _outcome(stage, "ran", status, started)
    done = executor.execute(ctx, stage, status, notify)
    outcome.executor, outcome.node, outcome.job_id = done.executor, done.node, done.job_id
    outcome.lost_attempts = done.lost
    outcome.exit_status = done.exit_status
    if done.error is not None:
        outcome.kind, outcome.error, outcome.ended = "failed", done.error, time.time()
        return outcome
    outcome.out_hashes = done.out_hashes
    if done.restored:
        outcome.kind = "restored"
    return _recorded(ctx, stage, status, locks, outcome)


def _recorded(
    ctx: RunContext, stage: Stage, status: StageStatus, locks: LockWriter, outcome: StageOutcome
) -> StageOutcome:
    """Write the lock entry and the run-cache entry of a stage that ran."""
    entry = entry_for(stage, status.dep_hashes, status.params, outcome.out_hashes)
    locks.update(stage.lockfile, stage.name, entry)
    if runcache.cacheable(stage):
        _commit_uncached(ctx, stage)
        runcache.save(ctx.runs_dir, entry, stage.name)
    outcome.ended = time.time()
    return outcome


def _around_command(
    ctx: RunContext, stage: Stage, status: StageStatus
) -> AbstractContextManager[None]:
    if ctx.around_command is None:
        return nullcontext()
    return ctx.around_command(stage, entry_for(stage, status.dep_hashes, status.params, {}))


def _commit_uncached(ctx: RunContext, stage: Stage) -> None:
    """Copy `cache: false` outputs into the cache (the workspace files stay as they are),
    so that the run-cache can restore them, as dvc's does."""
    from ..cache.save import save

    for out in stage.outs:
        if not out.cache:
            path = ctx.abspath(stage, out.path)
            save(path, ctx.odb, ctx.state, ("copy",), ctx.progress, ignore=ctx.ignore)


def _record_links(ctx: RunContext, stage: Stage) -> None:
    """Remember the cached outputs as written, so a checkout can take them back."""
    if ctx.links is not None:
        ctx.links.record(stage.repo_path(out.path) for out in stage.cached_outs)


def _keep_legacy_entries(
    ctx: RunContext, stage: Stage, lock: LockEntry | None, out_hashes: dict[str, HashInfo]
) -> None:
    """dvc's rule for a DVC 2 output entry (no `hash:`): when the run produced the same
    content by DVC 2's md5, the entry stays as it was and the object goes to DVC 2's
    cache; otherwise the new md5 entry replaces it."""
    from ..cache.save import add_copies

    for path, old in hashes_in(lock or {}, "outs").items():
        if old.name != LEGACY_MD5 or path not in out_hashes or not stage.in_repo(path):
            continue
        info, manifest = build(ctx.abspath(stage, path), LEGACY_MD5, ctx.state, ctx.progress)
        if info.value != old.value:
            continue
        out = next(o for o in stage.outs if o.path == path)
        if out.cache and ctx.legacy_odb is not None:
            add_copies(ctx.legacy_odb, ctx.abspath(stage, path), info, manifest)
        out_hashes[path] = info


def save_outputs(ctx: RunContext, stage: Stage, relink: bool = True) -> dict[str, HashInfo]:
    """Hash and cache `stage`'s outputs; without `relink` the cache gets copies and the
    workspace files stay as they are (dvc's `commit --no-relink`)."""
    from ..cache.save import add_copies, save
    from ..gitignore import ignore_output

    missing = [o.path for o in stage.outs if not os.path.exists(ctx.abspath(stage, o.path))]
    if missing:
        names = ", ".join(f"'{p}'" for p in missing)
        raise RunError(
            f"stage '{stage.address}': the command succeeded but did not produce {names}; "
            "fix the command or the stage's outs"
        )
    hashes = {}
    for out in stage.outs:
        path = ctx.abspath(stage, out.path)
        if out.cache and not relink:
            info, manifest = build(path, ctx.hash_name, ctx.state, ctx.progress, ignore=ctx.ignore)
            add_copies(ctx.odb, path, info, manifest)
            hashes[out.path] = info
            ignore_output(ctx.root, stage.repo_path(out.path))
        elif out.cache:
            hashes[out.path] = save(
                path, ctx.odb, ctx.state, ctx.link_types, ctx.progress, ignore=ctx.ignore
            )
            ignore_output(ctx.root, stage.repo_path(out.path))
        else:
            hashes[out.path] = build(
                path, ctx.hash_name, ctx.state, ctx.progress, ignore=ctx.ignore
            )[0]
    return hashes
