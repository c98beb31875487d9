"""`llmpipe sweep`: plan the jobs, run the shared upstream stages once, launch, record.

The verb is audited; each job (`sweep_job`) reproduces in a copy of the project.

The plan composes every job's params up front (so a bad override fails before
anything runs) and finds the stages whose inputs are the same in every job: the
tracked params they read have equal values in all jobs and so do their upstream
stages'. Those run once, in a workspace of their own, before the launcher starts;
the jobs then restore them from the shared run-cache instead of executing them
again, even when they run in parallel.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, RunError
from ..hydra.expand import Expansion, expand
from ..hydra.overrides import params_with_overrides, split_path_overrides
from ..hydra.results import (
    JobResult,
    SweepRecord,
    read_json,
    save_record,
    sweeps_root,
    write_json,
)
from ..hydra.settings import PARAMS_FILE, hydra_settings
from .audit import Outcome, Targets, audited
from .sweep_job import job_status_path, open_workspace

if TYPE_CHECKING:
    from ..project import Project
    from ..stage import Stage


@dataclass(frozen=True)
class SweepRequest:
    overrides: tuple[str, ...]
    jobs: int = 1  # jobs at once (joblib's n_jobs)
    launcher: str | None = None  # basic, joblib, submitit_slurm, ray, ... (default by jobs)
    targets: tuple[str, ...] = ()
    fail_fast: bool = False
    keep_workspaces: bool = False
    share_upstream: bool = True
    # Where each job's stages run (`repro --executor`): the jobs stay on this machine, in
    # their workspaces; their stages go to Ray or Slurm, data through the remote.
    executor: str = "local"
    retries: int = 0


@dataclass(frozen=True)
class SweepProgress:
    total: int
    done: int
    running: int
    failed: int


@dataclass
class _Plan:
    expansion: Expansion
    params: list[dict[str, Any]] = field(default_factory=list)  # per job: file -> data


def describe_sweep(record: SweepRecord) -> tuple[Targets, Outcome]:
    """One target per job (its overrides and status); failed jobs fail the record."""
    targets: Targets = [
        {"path": f"sweep {record.id} job {job.job}", "hash": None, "overrides": job.overrides,
         "status": job.status}
        for job in record.jobs
    ]  # fmt: skip
    failed = [job.job for job in record.jobs if job.status != "succeeded"]
    if failed:
        return targets, Outcome("failed", 1, f"job(s) {failed} did not succeed")
    return targets, Outcome()


@audited("sweep run", describe=describe_sweep)
def run_sweep(
    repo: Project,
    request: SweepRequest,
    on_progress: Callable[[SweepProgress], None] | None = None,
) -> SweepRecord:
    """Run every job of the sweep; failed jobs are in the record, not raised.

    Raises ConfigError for bad overrides or a missing launcher (before any job runs)
    and RunError when a shared upstream stage fails (no job could succeed).
    """
    from ..hydra.launch import launch, launcher_overrides
    from .sweep_job import hydra_task

    plan = plan_sweep(repo, request.overrides)
    launcher = launcher_overrides(request.launcher, request.jobs, plan.expansion.launcher_overrides)
    sweep_id, sweep_dir = _new_sweep_dir(repo)
    workspaces = os.path.join(repo.llmpipe_dir, "tmp", "sweeps", sweep_id)
    jobs = plan.expansion.jobs
    record = SweepRecord(
        id=sweep_id,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        overrides=list(request.overrides),
        launcher=launcher[0].split("=", 1)[1],
        jobs=[JobResult(job=i, overrides=list(o)) for i, o in enumerate(jobs)],
    )
    started = time.time()
    write_json(os.path.join(sweep_dir, "plan.json"), _plan_file(repo, request, jobs, workspaces))
    save_record(sweep_dir, record)
    if request.share_upstream and len(jobs) > 1:
        record.shared_stages = run_shared_upstream(repo, request, plan, workspaces)
    watcher = _Watcher(sweep_dir, len(jobs), on_progress)
    watcher.start()
    try:
        batch = request.jobs if request.fail_fast else None
        launch(hydra_task, sweep_dir, len(jobs), launcher, batch)
    finally:
        watcher.stop()
        record.jobs = _collect(sweep_dir, record.jobs)
        record.duration_s = time.time() - started
        save_record(sweep_dir, record)
        _remove_empty(workspaces)
    return record


def plan_sweep(repo: Project, overrides: Sequence[str]) -> _Plan:
    """Expand the overrides and compose each job's params; ConfigError on any bad job."""
    if not overrides:
        raise ConfigError("give the overrides to sweep, e.g. 'llmpipe sweep train.lr=1e-3,3e-4'")
    settings = hydra_settings(repo.config, repo.root)
    if not settings.enabled:
        expansion = expand(overrides)
        return _Plan(expansion, [_plain_params(repo.root, job) for job in expansion.jobs])
    from ..hydra.compose import compose_with, hydra_session

    with hydra_session(settings) as loader:
        expansion = expand(overrides, loader)
        params = []
        for job in expansion.jobs:
            grouped = split_path_overrides(job)
            composed = compose_with(loader, settings, grouped.pop(PARAMS_FILE, []))
            params.append({PARAMS_FILE: composed, **params_with_overrides(repo.root, grouped)})
    return _Plan(expansion, params)


def _plain_params(root: str, job: Sequence[str]) -> dict[str, Any]:
    return params_with_overrides(root, split_path_overrides(job))


def shared_stages(stages: dict[str, Stage], order: Sequence[str], plan: _Plan) -> list[str]:
    """Stages (in order) whose params and upstream are identical in every job."""
    from ..spec.params import lookup_param

    varying_files = {path for job in plan.params for path in job}
    shared: list[str] = []
    parents = _parents(stages)
    # Data tracked by `.dvc` files is the same in every job: a parent that never varies.
    fixed = {address for address, stage in stages.items() if stage.is_data_source}
    for address in order:
        stage = stages[address]
        if stage.is_data_source or stage.always_changed or stage.frozen or not stage.cmd:
            continue
        if not parents[address] <= fixed.union(shared):
            continue
        if any(stage.repo_path(d.path) in varying_files for d in stage.deps):
            continue  # reads a whole params file the sweep rewrites
        if all(_same_in_all_jobs(stage, ref, plan, lookup_param) for ref in stage.params):
            shared.append(address)
    return shared


def _parents(stages: dict[str, Stage]) -> dict[str, set[str]]:
    from ..graph import build_graph

    return build_graph(stages.values()).parents


def _same_in_all_jobs(stage: Stage, ref: Any, plan: _Plan, lookup: Callable) -> bool:
    path = stage.repo_path(ref.file)
    if not any(path in job for job in plan.params):
        return True
    values = []
    for job in plan.params:
        data = job.get(path, {})
        if not ref.keys:
            values.append(data)
            continue
        values.append([_lookup(lookup, data, key) for key in ref.keys])
    return all(v == values[0] for v in values)


def _lookup(lookup: Callable, data: dict[str, Any], key: str) -> Any:
    try:
        return ("found", lookup(data, key))
    except Exception:  # noqa: BLE001 - a missing key is a value too (the stage would fail alike)
        return ("missing",)


def run_shared_upstream(
    repo: Project, request: SweepRequest, plan: _Plan, workspaces: str
) -> list[str]:
    """Run the stages every job shares once (job 0's params), filling the run-cache."""
    from ..graph import build_graph, resolve_targets, select
    from ..hydra.workspace import remove_workspace
    from .repro import ReproRequest, reproduce

    graph = build_graph(repo.stages())
    order = select(graph, resolve_targets(graph, request.targets))
    shared = shared_stages(graph.stages, order, plan)
    if not shared or len(shared) == len([a for a in order if not graph.stages[a].is_data_source]):
        return []  # nothing shared, or nothing varies: the jobs just run
    workspace = os.path.join(workspaces, "shared")
    try:
        lineage = os.path.join(repo.llmpipe_dir, "lineage")
        with open_workspace(repo.root, repo.cache_dir, lineage, workspace) as ws:
            overrides = tuple(plan.expansion.jobs[0])
            shared_run = ReproRequest(
                targets=tuple(shared),
                overrides=overrides,
                overwrite_params=True,
                executor=request.executor,
                retries=request.retries,
            )
            result = reproduce(ws, shared_run, audit=False)
    finally:
        if not request.keep_workspaces:
            remove_workspace(workspace)
    if result.failed:
        failed = result.failed[0]
        raise RunError(
            f"shared stage '{failed.stage.address}' failed, so every job would: {failed.error}"
        )
    return shared


def _plan_file(
    repo: Project, request: SweepRequest, jobs: Sequence[Sequence[str]], workspaces: str
) -> dict[str, Any]:
    return {
        "root": repo.root,
        "cache_dir": repo.cache_dir,
        "lineage_dir": os.path.join(repo.llmpipe_dir, "lineage"),
        "workspaces_dir": workspaces,
        "jobs": [list(job) for job in jobs],
        "targets": list(request.targets),
        "fail_fast": request.fail_fast,
        "keep_workspaces": request.keep_workspaces,
        "executor": request.executor,
        "retries": request.retries,
    }


def _new_sweep_dir(repo: Project) -> tuple[str, str]:
    from ..lineage.record import new_id

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    sweep_id = f"{stamp}-{new_id()[:6]}"
    sweep_dir = os.path.join(sweeps_root(repo.llmpipe_dir), sweep_id)
    os.makedirs(os.path.join(sweep_dir, "jobs"), exist_ok=True)
    _ensure_ignored(sweeps_root(repo.llmpipe_dir))
    return sweep_id, sweep_dir


def _ensure_ignored(sweeps_dir: str) -> None:
    # Sweep records are local results (like lineage): a self-ignoring .gitignore keeps
    # them out of git without editing the project's tracked .gitignore files.
    path = os.path.join(sweeps_dir, ".gitignore")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("*\n")


def _collect(sweep_dir: str, planned: list[JobResult]) -> list[JobResult]:
    """The jobs as they reported; a job that never finished is marked for what it is."""
    jobs = []
    for job in planned:
        path = job_status_path(sweep_dir, job.job)
        if not os.path.exists(path):
            job.status = "not-run"
            jobs.append(job)
            continue
        reported = JobResult.from_dict(read_json(path))
        if reported.status == "running":
            reported.status, reported.error = "failed", "the job ended without reporting"
        jobs.append(reported)
    return jobs


def _remove_empty(path: str) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        os.rmdir(path)


class _Watcher:
    """Polls the jobs' status files and reports done/running/failed when they change."""

    def __init__(
        self, sweep_dir: str, total: int, callback: Callable[[SweepProgress], None] | None
    ) -> None:
        self.sweep_dir, self.total, self.callback = sweep_dir, total, callback
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.last: SweepProgress | None = None

    def start(self) -> None:
        if self.callback:
            self.thread.start()

    def stop(self) -> None:
        if self.callback:
            self.stopped.set()
            self.thread.join()
            self._poll()

    def _loop(self) -> None:
        while not self.stopped.wait(0.25):
            self._poll()

    def _poll(self) -> None:
        counts = {"running": 0, "succeeded": 0, "failed": 0}
        for index in range(self.total):
            try:
                status = read_json(job_status_path(self.sweep_dir, index)).get("status")
            except (OSError, ValueError):
                continue
            if status in counts:
                counts[status] += 1
        progress = SweepProgress(
            self.total, counts["succeeded"] + counts["failed"], counts["running"], counts["failed"]
        )
        if progress != self.last and self.callback:
            self.last = progress
            self.callback(progress)


def apply_job(repo: Project, sweep_id: str, job: int) -> list[str]:
    """Write job `job` of sweep `sweep_id` into the config (for a plain `repro`);
    returns the files changed."""
    from ..hydra.apply import apply_job as write_job
    from ..hydra.results import load_record

    return write_job(repo.root, repo.config, load_record(repo.llmpipe_dir, sweep_id), job)
