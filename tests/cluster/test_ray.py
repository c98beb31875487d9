"""`llmpipe repro --executor ray` on a real local Ray cluster (a head and two workers,
each worker in its own scratch folder, none in the project folder)."""

from __future__ import annotations

import pytest

from tests.cluster.pipelines import assert_same_run, reproduced_locally
from tests.cluster.ray_cluster import RAY, ray_cluster

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
    assert_same_run(fanout, twin)
    log = fanout.llmpipe("log").stdout
    assert "WHERE" in log and "ray worker-" in log, log
    again = fanout.llmpipe("repro", "--executor", "ray", "-j", "2")
    assert "Data and pipelines are up to date." in again.stdout


def test_a_stage_failing_on_a_worker(on_ray, fanout):
    fanout.write("src/train.py", "import sys; print('boom'); sys.exit(4)\n")
    fanout.commit("broken")
    done = fanout.llmpipe("repro", "--executor", "ray")
    assert done.returncode == 1
    assert "stage 'train': command 'python src/train.py' failed with exit status 4" in done.stderr
    assert "Not run because of the failure: evaluate" in done.stderr
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
