"""The driver side: hand a stage to an engine as one task and bring its outputs back.

`ClusterExecutor` implements `run.dispatch.Executor`. Before the first task it hashes
the project's files into a snapshot (`snapshot`); for each stage it pushes what the
task needs and the remote lacks, submits the task to the engine (retrying a lost
worker up to `retries` times), then fetches the outputs the worker reported,
verifying each against its hash, and checks them out into the workspace.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable
from typing import Protocol

from ..cache.build import build
from ..cache.checkout import checkout
from ..cache.complete import in_cache
from ..cache.odb import ObjectDB
from ..cache.save import add_copies
from ..config import RemoteConfig
from ..errors import ExecutorError, LlmpipeError, RunError
from ..gitignore import ignore_output
from ..remote.layout import Layout, connect
from ..remote.objects import expand
from ..run import runcache
from ..run.context import RunContext
from ..run.dispatch import Execution, Notify
from ..run.stage_run import leave_in_cache
from ..run.status import StageStatus, current_hash
from ..scm import head_commit
from ..stage import HashInfo, Resources, Stage
from .objects import fetch_objects, object_bytes, push_objects
from .runs import find_run
from .snapshot import Snapshot, snapshot
from .task import StageTask, TaskResult
from .traffic import Traffic


class WorkerLost(Exception):
    """The engine lost the task (worker died, pre-empted, node gone): worth a retry."""

    def __init__(self, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason)
        self.job_id = job_id


class Engine(Protocol):
    """Ray, Slurm or a local process: runs `worker.run_task` somewhere."""

    name: str

    def check(self, stage: Stage) -> None:
        """ExecutorError when no node could ever run `stage` (its resources)."""

    def run(self, task: StageTask, resources: Resources, notify: Notify) -> tuple[TaskResult, str]:
        """Run the task and wait: its result and the engine's job id; WorkerLost.
        Tells `notify` when it is queued (with the job) and running (with the node)."""

    def close(self) -> None: ...


class ClusterExecutor:
    def __init__(self, engine: Engine, remote: RemoteConfig, retries: int = 0) -> None:
        self.engine, self.remote, self.retries = engine, remote, retries
        self.name = engine.name
        self.traffic = Traffic()
        self._snapshot: Snapshot | None = None
        self._feasible: set[Resources] = set()
        self._commit: str | None = None
        self._mutex = threading.Lock()

    def execute(
        self, ctx: RunContext, stage: Stage, status: StageStatus, notify: Notify | None = None
    ) -> Execution:
        done = Execution(executor=self.name)
        try:
            finished = self._finished_earlier(ctx, stage, status)
            if finished is not None:
                self._bring_back(ctx, stage, finished)
                done.out_hashes, done.restored = finished, True
                return done
            _refuse_checkpoints(stage, self.name)
            self._check(stage)
            self._send(ctx, stage, status, notify or _ignore, done)
        except LlmpipeError as exc:
            done.error, done.exit_status = str(exc), None
        return done

    def _send(
        self, ctx: RunContext, stage: Stage, status: StageStatus, notify: Notify, done: Execution
    ) -> None:
        """Run the stage on the engine; its outputs into the cache (and workspace)."""
        task = self._task(ctx, stage, status)
        result, done.job_id = self._run(task, stage, notify, done)
        done.node, done.exit_status = result.node, result.exit_status
        if result.output:
            notify("output", result.output)
        if result.error is None:
            self._bring_back(ctx, stage, result.out_hashes)
            done.out_hashes = result.out_hashes
        done.error = result.error
        self._count(ctx, stage, task, result)

    def close(self) -> None:
        self.engine.close()
        self.traffic.write_if_asked()

    def _count(self, ctx: RunContext, stage: Stage, task: StageTask, result: TaskResult) -> None:
        inputs = [task.workspace, *task.deps.values()]
        self.traffic.stage(
            stage.address,
            result.node,
            result.fetched_oids,
            inputs_bytes=_bytes(ctx.odb, inputs),
            outs_bytes=_bytes(ctx.odb, result.out_hashes.values()) if not result.error else 0,
            worker_fetched=result.bytes_fetched,
            worker_pushed=result.bytes_pushed,
        )

    def _check(self, stage: Stage) -> None:
        """Ask the engine once per distinct resources request (it costs a round trip)."""
        with self._mutex:
            if stage.resources in self._feasible:
                return
        self.engine.check(stage)
        with self._mutex:
            self._feasible.add(stage.resources)

    def _run(
        self, task: StageTask, stage: Stage, notify: Notify, done: Execution
    ) -> tuple[TaskResult, str | None]:
        """The task's result, sent again up to `retries` times while its worker is lost
        (each lost try goes to `done.lost`); RunError once no try is left."""
        reasons: list[str] = []
        for attempt in range(self.retries + 1):
            try:
                return self.engine.run(task, stage.resources, notify)
            except WorkerLost as exc:
                reasons.append(f"{exc} (job {exc.job_id})" if exc.job_id else str(exc))
                done.job_id = exc.job_id
                if attempt < self.retries:
                    done.lost.append((str(exc), exc.job_id))
                    notify("lost", reasons[-1])
        tries = f"{len(reasons)} time(s)" if len(reasons) > 1 else "once"
        raise RunError(
            f"stage '{stage.address}': the {self.name} worker was lost {tries}: {reasons[-1]}"
            + ("" if self.retries else "; retry it with --retries N")
        )

    def _task(self, ctx: RunContext, stage: Stage, status: StageStatus) -> StageTask:
        shot = self._project_snapshot(ctx)
        deps = self._shipped_deps(ctx, stage, status, shot)
        oids = [o for info in [shot.info, *deps.values()] for o in expand(ctx.odb, info)]
        with self._layout(ctx, create=True) as layout:
            sent = push_objects(ctx.odb, layout, self.remote, oids, _scratch(ctx))
        self.traffic.add(pushed=len(sent.transferred))
        return StageTask(
            task_id=uuid.uuid4().hex,
            stage=stage,
            workspace=shot.info,
            deps=deps,
            remote=self.remote,
            hash_name=ctx.odb.hash_name,
            executables=shot.executables,
            git_commit=self._commit,
            dep_hashes=status.dep_hashes,
            params=status.params,
        )

    def _project_snapshot(self, ctx: RunContext) -> Snapshot:
        with self._mutex:
            if self._snapshot is None:
                self._snapshot = snapshot(ctx.root, ctx.odb, ctx.state)
                self._commit = head_commit(ctx.root)
            return self._snapshot

    def _shipped_deps(
        self, ctx: RunContext, stage: Stage, status: StageStatus, shot: Snapshot
    ) -> dict[str, HashInfo]:
        """Deps that are not among the project's git files, by repository path."""
        shipped = {}
        for dep in stage.deps:
            relpath = stage.repo_path(dep.path)
            info = status.dep_hashes.get(dep.path)
            if not stage.in_repo(dep.path) or info is None or shot.covers(relpath):
                continue
            if not in_cache(ctx.odb, info):
                _cache_copy(ctx.odb, ctx.abspath(stage, dep.path), ctx)
            shipped[relpath] = info
        shipped.update(self._persisted(ctx, stage))
        return shipped

    def _persisted(self, ctx: RunContext, stage: Stage) -> dict[str, HashInfo]:
        """`persist: true` outputs as the workspace (or --no-checkout's cache) holds them:
        the worker lays them out before the command, as a local run finds them."""
        kept = {}
        for out in stage.outs:
            if not out.persist or not stage.in_repo(out.path):
                continue
            info = current_hash(ctx, stage, out.path)
            if info is None:
                continue  # never made yet: the command starts without it, as locally
            if not in_cache(ctx.odb, info):
                _cache_copy(ctx.odb, ctx.abspath(stage, out.path), ctx)
            kept[stage.repo_path(out.path)] = info
        return kept

    def _finished_earlier(
        self, ctx: RunContext, stage: Stage, status: StageStatus
    ) -> dict[str, HashInfo] | None:
        """Outputs of a run of these very inputs that a worker finished and left on the
        remote's run-cache (its driver was killed before recording it), or None."""
        if not runcache.cacheable(stage):
            return None
        with self._layout(ctx, create=False) as layout:
            return find_run(layout, stage, status.dep_hashes, status.params)

    def _bring_back(self, ctx: RunContext, stage: Stage, outs: dict[str, HashInfo]) -> None:
        """Fetch the reported outputs (each verified against its hash) and check them out."""
        with self._layout(ctx, create=False) as layout:
            got = fetch_objects(ctx.odb, layout, self.remote, outs.values(), _scratch(ctx))
        self.traffic.add(fetched=len(got.transferred))
        if ctx.stand_ins is not None:
            leave_in_cache(ctx, stage, outs)
            return
        for out in stage.outs:
            path = ctx.abspath(stage, out.path)
            links = ctx.link_types if out.cache else ("copy",)
            result = checkout(ctx.odb, outs[out.path], path, links, ctx.state, guard=ctx.guard)
            if result.missing:
                raise RunError(f"stage '{stage.address}': output '{out.path}' came back incomplete")
            if out.cache:
                ignore_output(ctx.root, stage.repo_path(out.path))

    def _layout(self, ctx: RunContext, create: bool) -> _Connection:
        return _Connection(self.remote, ctx.odb.hash_name, create)


class _Connection:
    def __init__(self, remote: RemoteConfig, hash_name: str, create: bool) -> None:
        self.args = (remote, hash_name, create)

    def __enter__(self) -> Layout:
        self.layout = connect(*self.args)
        return self.layout

    def __exit__(self, *exc: object) -> None:
        self.layout.backend.close()


def _refuse_checkpoints(stage: Stage, executor: str) -> None:
    """Checkpoint streaming wraps the command on the driver only: sending the stage
    out would silently run it without its checkpoints."""
    meta = stage.meta.get("llmpipe") if isinstance(stage.meta, dict) else None
    if isinstance(meta, dict) and meta.get("checkpoints") is not None:
        raise ExecutorError(
            f"stage '{stage.address}' streams checkpoints (meta.llmpipe.checkpoints), which"
            f" only a stage run on the driver does; the {executor} executor would run it"
            " without them. Give it 'executor: local' under meta.llmpipe"
        )


def _bytes(odb: ObjectDB, infos: Iterable[HashInfo]) -> int:
    """The size of the objects of `infos` found in `odb` (outputs come back after this)."""
    oids = {oid for info in infos for oid in expand(odb, info) if odb.exists(oid)}
    return object_bytes(odb, oids)


def _ignore(event: str, detail: str) -> None:
    pass


def _cache_copy(odb: ObjectDB, path: str, ctx: RunContext) -> None:
    info, manifest = build(path, odb.hash_name, ctx.state)
    add_copies(odb, path, info, manifest)


def _scratch(ctx: RunContext) -> str:
    return os.path.join(ctx.root, ".dvc", "tmp", "remote")
