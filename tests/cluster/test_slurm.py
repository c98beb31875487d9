"""`llmpipe repro --executor slurm` on a real single-node Slurm cluster: every stage is a
batch job run from a scratch folder; data and results come back through the remote."""

from __future__ import annotations

import os
import re
import signal

import pytest

from tests.cluster.pipelines import assert_same_run, reproduced_locally, wait_until
from tests.cluster.slurm_cluster import SLURM, slurm_cluster
from tests.cluster.test_sweeps import sweep_on

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not SLURM, reason="needs slurm-wlm and munge (apt-get install)"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as running:
        yield running


@pytest.fixture
def on_slurm(cluster, monkeypatch, tmp_path):
    for name, value in cluster.env().items():
        monkeypatch.setenv(name, value)
    # Jobs inherit the driver's environment (sbatch --export=ALL): their scratch folder.
    monkeypatch.setenv("LLMPIPE_WORKER_DIR", str(tmp_path / "slurm-worker"))
    monkeypatch.setenv("LLMPIPE_WORKER_NAME", "slurm-node")
    return cluster


def test_fanout_on_slurm_matches_a_local_run(on_slurm, fanout, tmp_path):
    twin = reproduced_locally(fanout, tmp_path / "twin")
    done = fanout.llmpipe("repro", "--executor", "slurm")
    assert done.returncode == 0, done.stderr
    assert "7 stage(s) ran" in done.stdout
    assert "Stage 'train' queued on slurm (job " in done.stdout
    # Slurm's state is polled: a job can start and end between two polls, so which stages are
    # seen running is timing (test_process_executor covers the display itself); a stage seen
    # running names its node and job.
    seen = [line for line in done.stdout.splitlines() if " running on " in line]
    assert all(re.fullmatch(r"Stage '\S+' running on \S+ \(job \d+\)", s) for s in seen), seen
    assert_same_run(fanout, twin)
    parallel = fanout.llmpipe("repro", "--executor", "slurm", "-f", "-j", "2")
    assert parallel.returncode == 0, parallel.stderr
    assert (fanout.path / "dvc.lock").read_bytes() == (twin / "dvc.lock").read_bytes()
    rows = fanout.llmpipe("log").stdout.splitlines()
    assert " slurm slurm-node (job " in [r for r in rows if " train " in r][-1]


def test_a_stage_failing_in_a_job(on_slurm, fanout):
    fanout.write("src/train.py", "import sys; sys.exit(4)\n")
    fanout.commit("broken")
    done = fanout.llmpipe("repro", "--executor", "slurm", "-j", "2")
    assert done.returncode == 1
    assert "stage 'train': command 'python src/train.py' failed with exit status 4" in done.stderr
    assert "featurize@3" in (fanout.path / "dvc.lock").read_text()


def test_a_killed_job_is_retried_and_the_run_matches_a_local_one(on_slurm, fanout, tmp_path):
    """The job running the first featurize is cancelled mid-stage: Slurm's state is the
    reason, the driver submits it again, and the end is a local run's."""
    mark = tmp_path / "killed-once"
    flaky = (
        f"test -e {mark} || {{ touch {mark}; scancel $SLURM_JOB_ID; sleep 30; }}; mkdir -p features"
    )
    fanout.write("dvc.yaml", fanout.read("dvc.yaml").replace("mkdir -p features", flaky))
    fanout.commit("a job is cancelled once")
    done = fanout.llmpipe("repro", "--executor", "slurm", "--retries", "1")
    assert done.returncode == 0, done.stderr
    assert "Stage 'featurize@0' lost its worker (Slurm job ended CANCELLED" in done.stdout
    assert "7 stage(s) ran" in done.stdout
    record = fanout.llmpipe("log", "--json").stdout
    assert '"executor": "slurm"' in record
    twin = reproduced_locally(fanout, tmp_path / "twin")  # the mark exists: nothing is cancelled
    assert_same_run(fanout, twin)


def test_resources_slurm_cannot_give_are_a_clear_error(on_slurm, fanout):
    fanout.write(
        "dvc.yaml",
        fanout.read("dvc.yaml").replace(
            "cmd: python src/train.py",
            "cmd: python src/train.py\n    meta: {llmpipe: {resources: {cpus: 64}}}",
        ),
    )
    fanout.commit("big train")
    done = fanout.llmpipe("repro", "--executor", "slurm", "-j", "2")
    assert done.returncode == 1
    assert "stage 'train' asks Slurm for 64 CPU(s), which no node can give" in done.stderr
    assert "featurize@3" in (fanout.path / "dvc.lock").read_text()


def test_a_killed_driver_loses_no_finished_stage(on_slurm, project, tmp_path):
    """The job outlives its driver; the next repro finds its run on the remote's run-cache."""
    count = tmp_path / "runs.txt"
    project.write(
        "dvc.yaml",
        f"""\
        stages:
          slow:
            cmd: echo run >> {count} && sleep 4 && cp in.txt a.txt
            deps: [in.txt]
            outs: [a.txt]
          after:
            cmd: cat a.txt > b.txt
            deps: [a.txt]
            outs: [b.txt]
        """,
    )
    project.write("in.txt", "a\n")  # a stage with no deps always runs (dvc's callback stage)
    store = tmp_path / "store"
    project.ok("remote", "add", "-d", "store", str(store))
    project.commit()
    driver = project.spawn_llmpipe("repro", "--executor", "slurm")
    wait_until(count.exists)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.communicate()
    wait_until(lambda: any((store / "runs").rglob("*")) if (store / "runs").exists() else False)
    done = project.llmpipe("repro", "--executor", "slurm")
    assert done.returncode == 0, done.stderr
    assert "1 stage(s) ran, 1 restored from run-cache." in done.stdout
    assert count.read_text() == "run\n"  # the slow stage ran once
    assert (project.path / "b.txt").read_text() == "a\n"


def test_a_sweep_on_slurm_runs_the_shared_stage_once(on_slurm, swept):
    sweep_on(swept, "slurm")
