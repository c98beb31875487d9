"""One sweep job: copy the project, apply the job's overrides, reproduce, report.

`run_job` is what every launcher ends up calling (in this process for `basic`,
in worker processes for `joblib`, on cluster nodes for `submitit_slurm`/`ray`).
It reads everything it needs from the sweep directory, so its only arguments
are a path and a number, and it reports through `jobs/<n>.json` as well as its
return value. Stage runs go to the user's lineage store with the overrides.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import LlmpipeError, RunError
from ..hydra.results import JobResult, read_json, write_json
from ..project import Project


def job_status_path(sweep_dir: str, index: int) -> str:
    return os.path.join(sweep_dir, "jobs", f"{index}.json")


def hydra_task(cfg: Any) -> dict[str, Any]:
    """Hydra task function: `cfg.sweep_dir` and `cfg.job` name the job to run."""
    result = run_job(str(cfg.sweep_dir), int(cfg.job))
    if result["status"] == "failed" and read_json(_plan_path(str(cfg.sweep_dir))).get("fail_fast"):
        # Raising makes Hydra's sweeper stop after this batch (--fail-fast).
        raise RunError(f"sweep job {cfg.job} failed: {result['error']}")
    return result


def _plan_path(sweep_dir: str) -> str:
    return os.path.join(sweep_dir, "plan.json")


def run_job(sweep_dir: str, index: int) -> dict[str, Any]:
    """Run job `index` of the sweep planned in `sweep_dir`; never raises for a job failure."""
    plan = read_json(_plan_path(sweep_dir))
    result = JobResult(job=index, overrides=list(plan["jobs"][index]), status="running")
    write_json(job_status_path(sweep_dir, index), result.__dict__)
    started = time.time()
    workspace = os.path.join(plan["workspaces_dir"], f"job-{index}")
    try:
        _reproduce_in_workspace(plan, workspace, result)
    except LlmpipeError as exc:
        result.status, result.error = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - a job's crash is reported, it must not stop the sweep
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        result.error += "\n" + traceback.format_exc(limit=5)
    finally:
        if not plan.get("keep_workspaces"):
            from ..hydra.workspace import remove_workspace

            remove_workspace(workspace)
    result.duration_s = time.time() - started
    write_json(job_status_path(sweep_dir, index), result.__dict__)
    return dict(result.__dict__)


def _reproduce_in_workspace(plan: dict[str, Any], workspace: str, result: JobResult) -> None:
    from .repro import ReproRequest, reproduce

    with open_workspace(plan["root"], plan["cache_dir"], plan["lineage_dir"], workspace) as repo:
        request = ReproRequest(
            targets=tuple(plan.get("targets", ())),
            overrides=tuple(result.overrides),
            jobs=int(plan.get("stage_jobs", 1)),
            all_pipelines=not plan.get("targets"),  # a sweep plans every stage
            overwrite_params=True,  # the copy's params.yaml is the job's to compose
            executor=plan.get("executor", "local"),
            retries=int(plan.get("retries", 0)),
        )
        outcome = reproduce(repo, request, audit=False)  # the copy is thrown away
        result.stages = {o.stage.address: o.kind for o in outcome.outcomes}
        result.metrics = collect_metrics(repo)
        failed = [o for o in outcome.outcomes if o.kind == "failed"]
        if not failed:
            result.experiment = _save_experiment(repo, plan, result.overrides)
    result.status = "failed" if failed else "succeeded"
    if failed:
        result.error = f"stage '{failed[0].stage.address}' failed: {failed[0].error}"


def _save_experiment(repo: Project, plan: dict[str, Any], overrides: list[str]) -> str | None:
    """Save the job's results as an experiment named after its overrides (so `exp show`
    lists every job); None when the project is not at the top of a git work tree."""
    from .. import scm
    from ..run.repolock import repo_lock
    from .exp.refs import name_for_overrides
    from .exp.save import save_locked

    if scm.prefix_in_work_tree(plan["root"]) != "" or scm.head_commit(plan["root"]) is None:
        return None
    with repo_lock(repo.tmp_dir):
        saved = save_locked(repo, name_for_overrides(overrides), force=True, partial_copy=True)
    return saved.exp.ref


# Tracked data is only read in a job: link it from the cache (read-only objects) rather
# than copy it into every job; a copy is the last resort, as in checkout.
TRACKED_DATA_LINKS = ("reflink", "hardlink", "symlink", "copy")


@contextmanager
def open_workspace(root: str, cache_dir: str, lineage_dir: str, dest: str) -> Iterator[Project]:
    """A copy of the project at `root` in `dest`, sharing its cache, recording its stage
    runs in the user's lineage store, with the data of its `.dvc` files linked from the cache.

    Stage outputs made in the copy follow the project's own `cache.type`.
    """
    from ..hydra.workspace import create_workspace
    from ..lineage.store import LineageStore
    from ..run.repolock import repo_lock
    from .checkout import checkout_locked

    create_workspace(root, cache_dir, dest)
    with Project(dest) as copy:
        copy.use_lineage(LineageStore(lineage_dir))
        sources = [s.address for s in copy.stages() if s.is_data_source]
        if sources:
            with repo_lock(copy.tmp_dir):
                checkout_locked(copy, sources, link_types=TRACKED_DATA_LINKS)
        yield copy


def collect_metrics(repo: Project) -> dict[str, Any]:
    """Every metric output of the pipeline as `"<file>:<dotted.key>"` -> scalar.

    Lists are left out; a missing or unreadable file is skipped (the job reports
    what it has).
    """
    from ..metrics import FileProblem, flatten, read_metrics

    found: dict[str, Any] = {}
    for stage in repo.stages():
        for out in stage.outs:
            if out.kind != "metric":
                continue
            relpath = stage.repo_path(out.path)
            try:
                data = read_metrics(os.path.join(repo.root, relpath), relpath)
            except FileProblem:
                continue
            found.update((f"{relpath}:{key}", value) for key, value in flatten(data).items())
    return found
