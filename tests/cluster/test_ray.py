"""`llmpipe repro --executor ray` on a real local Ray cluster (a head and two workers,
each worker in its own scratch folder, none in the project folder)."""

from __future__ import annotations

import os
import re
import signal

import pytest

from tests.cluster.pipelines import assert_same_run, reproduced_locally, wait_until
from tests.cluster.ray_cluster import RAY, ray_cluster
from tests.cluster.test_sweeps import sweep_on

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(RAY is None, reason="needs Ray: pip install 'llmpipe[ray]'"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with ray_cluster(tmp_path_factory.mktemp("ray")) as running:
        yield running


@pytest.fixture
def on_ray(cluster, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    return cluster


def test_fanout_on_ray_matches_a_local_run(on_ray, fanout, tmp_path):
    twin = reproduced_locally(fanout, tmp_path / "twin")
    done = fanout.llmpipe("repro", "--executor", "ray")
    assert done.returncode == 0, done.stderr
    assert "7 stage(s) ran" in done.stdout
    assert "Stage 'train' queued on ray (task " in done.stdout
    assert "Stage 'train' running on worker-" in done.stdout
    assert_same_run(fanout, twin)
    log = fanout.llmpipe("log").stdout
    assert "WHERE" in log and "ray worker-" in log, log
    again = fanout.llmpipe("repro", "--executor", "ray", "-j", "2")
    assert "Data and pipelines are up to date." in again.stdout


def test_a_stage_failing_on_a_worker(on_ray, fanout):
    fanout.write("src/train.py", "import sys; print('boom', flush=True); sys.exit(4)\n")
    fanout.commit("broken")
    done = fanout.llmpipe("repro", "--executor", "ray")
    assert done.returncode == 1
    assert "stage 'train': command 'python src/train.py' failed with exit status 4" in done.stderr
    assert "Not run because of the failure: evaluate" in done.stderr
    assert "train| boom" in done.stdout  # what it printed on the worker
    assert "featurize@3" in (fanout.path / "dvc.lock").read_text()  # finished stages kept


def test_resources_no_node_has_are_a_clear_error(on_ray, fanout):
    fanout.write(
        "dvc.yaml",
        fanout.read("dvc.yaml").replace(
            "cmd: python src/train.py",
            "cmd: python src/train.py\n    meta: {llmpipe: {resources: {cpus: 64, memory: 2TB}}}",
        ),
    )
    fanout.commit("big train")
    done = fanout.llmpipe("repro", "--executor", "ray")
    assert done.returncode == 1
    assert "stage 'train' asks for CPU 64, memory 2e+12 on one node, but no node" in done.stderr
    lock = (fanout.path / "dvc.lock").read_text()
    assert "prepare:" in lock and "featurize@3" in lock  # nothing lost upstream
    fixed = fanout.read("dvc.yaml").replace("cpus: 64, memory: 2TB", "cpus: 1")
    fanout.write("dvc.yaml", fixed)
    rerun = fanout.llmpipe("repro", "--executor", "ray")
    assert rerun.returncode == 0, rerun.stderr
    assert "2 stage(s) ran" in rerun.stdout  # train and evaluate only


def test_a_stage_can_choose_local(on_ray, fanout):
    fanout.write(
        "dvc.yaml",
        fanout.read("dvc.yaml")
        .replace(
            "cmd: python src/evaluate.py",
            "cmd: python src/evaluate.py\n    meta: {llmpipe: {executor: local}}",
        )
        # Long enough for the four featurize stages to overlap on the two workers.
        .replace("cmd: mkdir -p features", "cmd: sleep 2 && mkdir -p features"),
    )
    fanout.commit("evaluate here")
    done = fanout.llmpipe("repro", "--executor", "ray", "-j", "4")
    assert done.returncode == 0, done.stderr
    rows = fanout.llmpipe("log").stdout.splitlines()
    # The four featurize stages ran at once, on both one-CPU workers.
    assert {r.split()[-3] for r in rows if " featurize@" in r} == {"worker-0", "worker-1"}
    assert [r for r in rows if " evaluate " in r][-1].rstrip().endswith("local")
    assert " ray worker-" in [r for r in rows if " train " in r][-1]


def test_a_killed_worker_is_retried_and_the_run_matches_a_local_one(on_ray, fanout, tmp_path):
    """The Ray worker process running a featurize stage is killed mid-stage (SIGKILL): Ray
    reports the task lost, the driver sends it again, and the end is a local run's."""
    mark = tmp_path / "killed-once"
    flaky = f"test -e {mark} || {{ touch {mark}; kill -9 $PPID; sleep 30; }}; mkdir -p features"
    fanout.write("dvc.yaml", fanout.read("dvc.yaml").replace("mkdir -p features", flaky))
    fanout.commit("a worker dies once")
    lost = fanout.llmpipe("repro", "--executor", "ray", "featurize@1")
    assert lost.returncode == 1
    assert "stage 'featurize@1': the ray worker was lost once: " in lost.stderr
    assert "WorkerCrashedError: The worker died unexpectedly" in lost.stderr  # Ray's words
    assert "retry it with --retries N" in lost.stderr
    mark.unlink()
    done = fanout.llmpipe("repro", "--executor", "ray", "--retries", "1")
    assert done.returncode == 0, done.stderr
    # Every featurize carries the kill: the first of them to run is lost this time.
    assert re.search(r"Stage 'featurize@\d' lost its worker \(WorkerCrashedError", done.stdout)
    assert "6 stage(s) ran" in done.stdout, done.stdout  # prepare ran with the first try
    twin = reproduced_locally(fanout, tmp_path / "twin")  # the mark exists: nothing dies
    assert_same_run(fanout, twin)


def test_a_killed_driver_loses_no_finished_stage(on_ray, project, tmp_path):
    """The driver is killed while one stage runs and another has finished; the next
    repro runs only what had not finished, and ends as a local run does."""
    count = tmp_path / "runs.txt"
    project.write(
        "dvc.yaml",
        f"""\
        stages:
          quick:
            cmd: echo quick >> {count} && cp in.txt q.txt
            deps: [in.txt]
            outs: [q.txt]
          slow:
            cmd: echo slow >> {count} && sleep 60 && cp in.txt s.txt
            deps: [in.txt]
            outs: [s.txt]
        """,
    )
    project.write("in.txt", "a\n")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit()
    driver = project.spawn_llmpipe("repro", "--executor", "ray", "-j", "2")
    wait_until(
        lambda: count.exists() and "quick" in count.read_text() and "slow" in count.read_text()
    )
    wait_until(lambda: "quick:" in _text(project.path / "dvc.lock"))
    os.killpg(driver.pid, signal.SIGKILL)
    driver.communicate()
    project.write("dvc.yaml", project.read("dvc.yaml").replace("sleep 60", "sleep 0"))
    done = project.llmpipe("repro", "--executor", "ray")
    assert done.returncode == 0, done.stderr
    assert "1 stage(s) ran" in done.stdout, done.stdout
    assert count.read_text().count("quick") == 1
    assert (project.path / "s.txt").read_text() == "a\n"


def _text(path) -> str:  # noqa: ANN001
    return path.read_text() if path.exists() else ""


def test_a_sweep_on_ray_runs_the_shared_stage_once(on_ray, swept):
    sweep_on(swept, "ray")
