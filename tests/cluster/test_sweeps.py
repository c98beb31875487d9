"""`llmpipe sweep --executor`: each job stays on the driver, in its workspace, and sends
its stages to workers (here separate processes) through the remote; the stage every job
shares runs once. The same sweeps on Ray and Slurm are in test_ray.py and test_slurm.py."""

from __future__ import annotations

import json
import os

from llmpipe.ops.sweep import SweepRequest, run_sweep
from llmpipe.project import Project as LlmProject
from tests.conftest import ROOT

# A documented command runs the 6-job sweeps: LLMPIPE_FULL_SWEEPS=1 (docs/cluster.md).
FULL = os.environ.get("LLMPIPE_FULL_SWEEPS") == "1"
SWEEP = ("train.lr=0.1,0.2,0.3", "model=tiny,small") if FULL else ("train.lr=0.1,0.2",)


def sweep_on(project, executor: str) -> None:  # noqa: ANN001
    """`llmpipe sweep … --executor EXECUTOR`, then what `sweep show` says of it."""
    done = project.llmpipe("sweep", *SWEEP, "--executor", executor, "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(project.llmpipe("sweep", "show", "--json").stdout)
    assert record["shared_stages"] == ["prepare"]
    check_sweep(project, record, executor)


def check_sweep(project, record, executor: str) -> None:  # noqa: ANN001
    """Every job succeeded with its metrics; prepare ran once, on a worker."""
    jobs = record["jobs"] if isinstance(record, dict) else [j.__dict__ for j in record.jobs]
    assert [j["status"] for j in jobs] == ["succeeded"] * len(jobs), [j["error"] for j in jobs]
    assert len(jobs) == (6 if FULL else 2)
    assert all("metrics.json:acc" in j["metrics"] for j in jobs)
    assert project.prepare_runs() == 1
    assert all(j["stages"]["prepare"] in ("restored", "skipped") for j in jobs), jobs
    log = project.ok("log", "--json").out
    assert f'"executor": "{executor}"' in log


def test_a_sweep_sends_each_jobs_stages_to_workers(swept, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "worker-tmp"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the worker processes import this checkout
    (tmp_path / "worker-tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    with LlmProject(str(swept.path)) as repo:
        record = run_sweep(repo, SweepRequest(overrides=SWEEP, executor="process"))
    assert record.shared_stages == ["prepare"]
    check_sweep(swept, record, "process")
