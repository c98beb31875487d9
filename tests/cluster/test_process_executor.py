"""The executor contract, on workers that are separate processes sharing only the remote.

Each worker runs in its own scratch folder, not the project; deps, the project's
files and outputs move through a folder remote outside the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from llmpipe.ops.repro import ReproRequest, reproduce
from llmpipe.project import Project as LlmProject
from tests.cluster.pipelines import OUTPUTS, same_tree
from tests.conftest import ROOT, llmpipe_env


@pytest.fixture(autouse=True)
def worker_scratch(tmp_path, monkeypatch):
    """Worker processes keep their cache under the test's own temporary folder."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "worker-tmp"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # workers import this checkout
    (tmp_path / "worker-tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)


def clone(project, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(project.path), str(target)], check=True)
    shutil.copytree(project.path / ".dvc" / "cache", target / ".dvc" / "cache")
    subprocess.run(
        ["python", "-m", "llmpipe", "checkout"], cwd=target, check=True, env=llmpipe_env()
    )
    return target


def run_on(path: Path, **request):
    with LlmProject(str(path)) as repo:
        return reproduce(repo, ReproRequest(**request))


def test_fanout_on_worker_processes_matches_a_local_run(fanout, tmp_path):
    twin = clone(fanout, tmp_path / "twin")
    local = run_on(twin)
    remote = run_on(fanout.path, executor="process")
    assert not local.failed and not remote.failed, [o.error for o in remote.failed]
    assert len(remote.of_kind("ran")) == 7
    assert (fanout.path / "dvc.lock").read_bytes() == (twin / "dvc.lock").read_bytes()
    for out in OUTPUTS:
        assert same_tree(fanout.path / out, twin / out), out
    assert (fanout.path / ".gitignore").read_text() == (twin / ".gitignore").read_text()
    ran = {o.stage.address: o for o in remote.outcomes}
    assert ran["train"].executor == "process" and ran["train"].job_id
    # dvc agrees nothing is left to do, and so does a second run.
    assert not run_on(fanout.path, executor="process").of_kind("ran")


def test_parallel_stages_on_workers_record_the_same_entries(fanout, tmp_path):
    """With -j 2 entries land in dvc.lock in the order stages finish (as with local -j)."""
    twin = clone(fanout, tmp_path / "twin")
    run_on(twin)
    assert not run_on(fanout.path, executor="process", jobs=2).failed
    assert lock_entries(fanout.path) == lock_entries(twin)


def lock_entries(root: Path) -> dict:
    from llmpipe.lockfile import parse_lock

    return dict(parse_lock((root / "dvc.lock").read_text(), "dvc.lock"))


def test_lineage_says_where_each_stage_ran(fanout, monkeypatch):
    monkeypatch.setenv("LLMPIPE_WORKER_NAME", "worker-a")
    run_on(fanout.path, executor="process", targets=("prepare",))
    listing = fanout.ok("lineage", "data/prepared").out
    assert "worker-a" in listing, listing


def test_the_worker_runs_outside_the_project(tmp_path, project):
    project.write(
        "dvc.yaml",
        """\
        stages:
          where:
            cmd: python -c "import os; open('where.txt', 'w').write(os.getcwd())"
            outs: [where.txt]
        """,
    )
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit()
    assert not run_on(project.path, executor="process").failed
    where = (project.path / "where.txt").read_text()
    assert not where.startswith(str(project.path)) and "llmpipe-process-worker" in where


def test_a_failing_command_fails_the_stage_and_blocks_its_descendants(fanout):
    fanout.write("src/train.py", "import sys; sys.exit(3)\n")
    fanout.commit("broken train")
    result = run_on(fanout.path, executor="process")
    [failed] = result.failed
    assert failed.stage.address == "train" and failed.exit_status == 3
    assert "failed with exit status 3" in failed.error
    assert result.not_run == ["evaluate"]
    lock = (fanout.path / "dvc.lock").read_text()
    assert "featurize@3" in lock and "train:" not in lock


def test_uncommitted_changes_reach_the_worker(fanout):
    run_on(fanout.path, executor="process")
    fanout.write("params.yaml", "lr: 0.2\n")  # not committed
    result = run_on(fanout.path, executor="process")
    assert [o.stage.address for o in result.of_kind("ran")] == ["train", "evaluate"]
    assert b"lr: 0.2" in (fanout.path / "model.bin").read_bytes()


def test_a_lost_worker_is_retried(fanout, tmp_path):
    mark = tmp_path / "killed-once"
    fanout.write(
        "dvc.yaml",
        f"""\
        stages:
          flaky:
            cmd: test -e {mark} || {{ touch {mark}; kill -9 $PPID; }}; echo ok > flaky.txt
            outs: [flaky.txt]
        """,
    )
    fanout.commit("flaky")
    lost = run_on(fanout.path, executor="process")
    [failed] = lost.failed
    assert "the process worker was lost once: the worker process was killed by SIGKILL" in (
        failed.error
    )
    assert "--retries" in failed.error
    mark.unlink()
    retried = run_on(fanout.path, executor="process", retries=1)
    assert not retried.failed and (fanout.path / "flaky.txt").read_text() == "ok\n"
    import json

    runs = [r for r in json.loads(fanout.ok("log", "--json").out) if r["stage"] == "flaky"]
    # The first run's loss; the retried run's lost try, then its success.
    assert sorted(r["status"] for r in runs) == ["failed", "failed", "ran"], runs
    lost = [r for r in runs if r["status"] == "failed"]
    assert len(lost) == 2 and all("killed by SIGKILL" in r["error"] for r in lost)
    assert all(r["executor"] == "process" and r["job_id"] for r in runs)


def test_no_remote_is_a_clear_error(project):
    project.write("dvc.yaml", "stages:\n  a: {cmd: echo hi > a.txt, outs: [a.txt]}\n")
    project.commit()
    [failed] = run_on(project.path, executor="process").failed
    assert "the process executor moves data through the project's remote" in failed.error


def test_runs_finished_on_workers_are_found_through_the_remote(fanout, tmp_path):
    """A driver that never saw the runs (another clone, empty cache; or one killed before
    it recorded them) restores every cacheable stage from the run-cache the workers left
    on the remote instead of sending it out again."""
    assert not run_on(fanout.path, executor="process").failed
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(fanout.path), str(other)], check=True)
    subprocess.run(
        ["python", "-m", "llmpipe", "pull", "data/raw.txt.dvc"], cwd=other, check=True,
        env=llmpipe_env(), capture_output=True,
    )  # fmt: skip
    result = run_on(other, executor="process")
    assert not result.failed
    # Every stage, evaluate too: as in dvc, `cache: false` outputs are kept for the run-cache.
    assert len(result.of_kind("restored")) == 7
    assert result.of_kind("ran") == []
    assert (other / "model.bin").read_bytes() == (fanout.path / "model.bin").read_bytes()


def test_no_checkout_leaves_outputs_in_the_cache_until_checkout(fanout, tmp_path):
    twin = clone(fanout, tmp_path / "twin")
    run_on(twin)
    result = run_on(fanout.path, executor="process", no_checkout=True)
    assert not result.failed and len(result.of_kind("ran")) == 7
    assert (fanout.path / "dvc.lock").read_bytes() == (twin / "dvc.lock").read_bytes()
    made = ("data/prepared", "features/f0.txt", "features/f3.txt", "model.bin")
    assert not any((fanout.path / out).exists() for out in made)
    assert same_tree(fanout.path / "metrics.json", twin / "metrics.json")  # cache: false: git's
    # The lock and the cache say everything is done, though nothing is checked out.
    again = run_on(fanout.path, executor="process", no_checkout=True)
    assert not again.failed and not again.of_kind("ran") and not again.of_kind("restored")
    fanout.ok("checkout")
    for out in OUTPUTS:
        assert same_tree(fanout.path / out, twin / out), out
    for ignore in (".gitignore", "features/.gitignore", "data/.gitignore"):
        lines = set((fanout.path / ignore).read_text().splitlines())
        assert lines == set((twin / ignore).read_text().splitlines()), ignore


def test_no_checkout_judges_downstream_by_the_new_outputs_not_stale_files(fanout):
    """The workspace keeps an old model.bin; evaluate (run on the driver) must read the
    new one, which is checked out for it, and the lock chains train's new hash."""
    fanout.write(
        "dvc.yaml",
        fanout.read("dvc.yaml").replace(
            "cmd: python src/evaluate.py",
            "cmd: python src/evaluate.py\n    meta: {llmpipe: {executor: local}}",
        ),
    )
    fanout.commit("evaluate on the driver")
    assert not run_on(fanout.path, executor="process").failed
    old_features = (fanout.path / "features" / "f0.txt").read_bytes()
    fanout.write("params.yaml", "lr: 0.2\n")
    fanout.write("data/raw.txt", "changed\n")
    fanout.ok("add", "data/raw.txt")
    result = run_on(fanout.path, executor="process", no_checkout=True)
    assert not result.failed, [o.error for o in result.failed]
    assert (fanout.path / "features" / "f0.txt").read_bytes() == old_features  # untouched
    model = b"".join((fanout.path / "model.bin").read_bytes().split(b"\n"))
    assert b"lr: 0.2" in model  # checked out for evaluate, which ran here
    from llmpipe.lockfile import parse_lock

    lock = dict(parse_lock((fanout.path / "dvc.lock").read_text(), "dvc.lock"))
    trained = lock["train"]["outs"][0]["md5"]
    assert [d["md5"] for d in lock["evaluate"]["deps"] if d["path"] == "model.bin"] == [trained]
    fanout.ok("checkout")
    assert (fanout.path / "features" / "f0.txt").read_bytes() != old_features


def test_the_driver_shows_where_a_stage_runs_and_what_it_printed(
    project, tmp_path, monkeypatch, capsys
):
    from llmpipe.cli.render import CliReporter

    project.write(
        "dvc.yaml",
        """\
        stages:
          talk:
            cmd: echo said on the worker && echo warned >&2 && echo x > t.txt
            outs: [t.txt]
        """,
    )
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit()
    monkeypatch.setenv("LLMPIPE_WORKER_NAME", "worker-a")
    capsys.readouterr()
    with LlmProject(str(project.path)) as repo:
        reproduce(repo, ReproRequest(executor="process"), reporter=CliReporter())
    lines = capsys.readouterr().out.splitlines()
    running = [line for line in lines if line.startswith("Stage 'talk' running on worker-a")]
    assert running, lines
    assert lines.index(running[0]) < lines.index("talk| said on the worker")
    assert "talk| warned" in lines
    done = next(line for line in lines if line.startswith("Stage 'talk' done"))
    assert lines.index("talk| warned") < lines.index(done)


def test_a_persisted_output_reaches_the_next_run_on_another_worker(project, tmp_path, monkeypatch):
    project.write(
        "dvc.yaml",
        """\
        stages:
          grow:
            cmd: echo run >> log.txt
            outs: [{log.txt: {persist: true}}]
        """,
    )
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit()
    for worker in ("first", "second"):  # two workers: two scratch folders, two caches
        (tmp_path / worker).mkdir()
        monkeypatch.setenv("TMPDIR", str(tmp_path / worker))
        monkeypatch.setattr("tempfile.tempdir", None)
        assert not run_on(project.path, executor="process", force=True).failed
    assert (project.path / "log.txt").read_text() == "run\nrun\n"
    assert os.listdir(tmp_path / "second" / "llmpipe-process-worker")


def test_a_stage_streaming_checkpoints_is_not_sent_out_without_them(project, tmp_path):
    project.write(
        "dvc.yaml",
        """\
        stages:
          train:
            cmd: mkdir -p ckpt && echo m > model.bin
            outs: [model.bin, ckpt]
            meta: {llmpipe: {checkpoints: ckpt}}
        """,
    )
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit()
    [failed] = run_on(project.path, executor="process").failed
    assert "stage 'train' streams checkpoints (meta.llmpipe.checkpoints)" in failed.error
    assert "'executor: local'" in failed.error


def test_no_object_crosses_twice_to_one_worker(fanout, tmp_path, monkeypatch):
    stats = tmp_path / "stats.json"
    monkeypatch.setenv("LLMPIPE_CLUSTER_STATS", str(stats))
    assert not run_on(fanout.path, executor="process").failed
    import json

    stages = json.loads(stats.read_text())["stages"]
    assert len(stages) == 7 and all(s["refetched"] == 0 for s in stages)
    first, *later = stages  # one worker cache: the project's files came once, with prepare
    assert first["worker_fetched"] > 0 and first["inputs_bytes"] >= first["worker_fetched"]
    assert all(s["worker_fetched"] < first["worker_fetched"] for s in later)
    assert all(s["outs_bytes"] > 0 and s["worker_pushed"] <= s["outs_bytes"] for s in stages)
