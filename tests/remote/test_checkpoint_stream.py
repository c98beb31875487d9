"""Checkpoints streamed to the remote while a stage runs, resumed on a fresh clone.

A small training script (no torch) writes checkpoints through `llmpipe.checkpoint`;
the real CLI runs it in a subprocess against a folder remote, an encrypted one and
S3 (the moto server).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import llmpipe_env, needs_dvc
from tests.remote.conftest import RemoteSite, local_site

# Each step's weights depend on the previous step's: resuming from a wrong or partial
# checkpoint gives different bytes.
TRAIN = """\
import os, signal, sys, time
from llmpipe import checkpoint

root, steps = "ckpts", int(sys.argv[1])
die_after = int(os.environ.get("DIE_AFTER", "0"))
gate = os.environ.get("GATE")
sync = os.environ.get("SYNC")  # wait for llmpipe to push each checkpoint


def pushed():  # the checkpoint records llmpipe added to the local lineage store
    walk = os.walk(".llmpipe/lineage/checkpoints")
    return sum(n.endswith(".parquet") and n[0] != "." for _, _, ns in walk for n in ns)


os.makedirs(root, exist_ok=True)
checkpoint.remove_incomplete(root)
done = checkpoint.complete(root)
state = open(os.path.join(root, done[-1].name, "w.txt")).read() if done else "7"
print(f"start {done[-1].step if done else 0}", flush=True)
before = pushed()
for step in range((done[-1].step if done else 0) + 1, steps + 1):
    state = str((int(state) * 31 + step) % 1000003)
    if die_after and step == die_after + 1:
        half = checkpoint.begin(root, checkpoint.folder_name(step))
        open(os.path.join(half, "w.txt"), "w").write("half")
        os.kill(os.getpid(), signal.SIGKILL)
    with checkpoint.save(root, step, metrics={"loss": round(1 / step, 4)}) as folder:
        open(os.path.join(folder, "w.txt"), "w").write(state)
        open(os.path.join(folder, "pad.bin"), "wb").write(state.encode() * 4096)
    deadline = time.monotonic() + 60
    while sync and pushed() < before + step - (done[-1].step if done else 0):
        assert time.monotonic() < deadline, "llmpipe did not push the checkpoint"
        time.sleep(0.02)
    while gate and step == 2 and not os.path.exists(gate):
        time.sleep(0.02)
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py 4
    deps:
      - train.py
    outs:
      - ckpts:
          persist: true
    meta:
      llmpipe:
        checkpoints: ckpts
"""
KEY = "44" * 32


def make_origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "train.py").write_text(TRAIN)
    (origin / "dvc.yaml").write_text(DVC_YAML)
    run_cli(origin, "init")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "training")
    return origin


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=llmpipe_env(), check=True, capture_output=True, text=True
    ).stdout


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True):  # noqa: ANN201
    result = subprocess.run(
        [sys.executable, "-m", "llmpipe", *args],
        cwd=cwd,
        env={**llmpipe_env(), "LLMPIPE_REMOTE_KEY": KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, f"llmpipe {args}:\n{result.stdout}\n{result.stderr}"
    return result


def clone(origin: Path, where: Path, site: RemoteSite, encrypt: bool = False) -> Path:
    git(where.parent, "clone", "-q", str(origin), where.name)
    run_cli(where, "remote", "add", "-d", "store", site.url)
    for key, value in {**site.options, **({"encrypt": "true"} if encrypt else {})}.items():
        run_cli(where, "remote", "modify", "store", key, value)
    for key, value in site.secret_options.items():
        run_cli(where, "remote", "modify", "--local", "store", key, value)
    return where


def records(site: RemoteSite) -> dict[str, dict]:
    """The plain checkpoint records on the remote, by key."""
    prefix = "llmpipe/checkpoints/train/"
    return {
        key[len(prefix) :]: json.loads(site.read(key))
        for key in site.listing()
        if key.startswith(prefix)
    }


def checkpoint_records(site: RemoteSite) -> list[dict]:
    found = [r for k, r in records(site).items() if "/ckpt-" in k]
    return sorted(found, key=lambda r: r["created"])


def test_killed_run_resumes_on_a_fresh_clone_identically(tmp_path, remote_kind) -> None:
    kind, site = remote_kind
    encrypt = kind == "encrypted"
    origin = make_origin(tmp_path)

    # Clone A: the command is killed (SIGKILL) with checkpoint 3 half-written.
    a = clone(origin, tmp_path / "a", site, encrypt)
    killed = run_cli(a, "repro", env={"DIE_AFTER": "2"}, check=False)
    assert killed.returncode == 1 and "SIGKILL" in killed.stderr
    assert (a / "ckpts" / ".step-000003.tmp").is_dir()
    shutil.rmtree(a)

    if not encrypt:
        pushed = checkpoint_records(site)
        assert [r["step"] for r in pushed][-1] == 2
        assert all(r["name"] != "step-000003" for r in pushed)  # half-written: never pushed
        assert pushed[-1]["metrics"] == {"loss": 0.5} and pushed[-1]["parent"] in (
            None,
            pushed[0]["id"],
        )
        (run,) = [r for k, r in records(site).items() if k.endswith("/run.json")]
        assert run["state"] == "failed"
    else:
        assert not any(k.startswith(("llmpipe/", "files/")) for k in site.listing())

    # Clone B, on "another machine": resumes from checkpoint 2.
    b = clone(origin, tmp_path / "b", site, encrypt)
    resumed = run_cli(b, "repro")
    assert "start 2" in resumed.stdout, resumed.stdout
    assert "resumed from checkpoint" in resumed.stderr

    # An uninterrupted run, with its own remote.
    c = clone(origin, tmp_path / "c", local_site(tmp_path / "other"))
    assert "start 0" in run_cli(c, "repro").stdout
    assert (b / "dvc.lock").read_bytes() == (c / "dvc.lock").read_bytes()
    for step in range(1, 5):
        name = f"ckpts/step-{step:06d}/w.txt"
        assert (b / name).read_bytes() == (c / name).read_bytes()
    if not encrypt:
        states = sorted(r["state"] for k, r in records(site).items() if k.endswith("run.json"))
        assert states == ["finished", "superseded"]


@pytest.mark.parametrize("remote_kind", ["folder"], indirect=True)
def test_checkpoints_reach_the_remote_while_the_command_runs(tmp_path, remote_kind) -> None:
    _kind, site = remote_kind
    a = clone(make_origin(tmp_path), tmp_path / "a", site)
    with held_at_step_two(a, tmp_path / "gate", lambda: checkpoint_records(site)) as process:
        assert process.poll() is None  # training is still running (waiting at the gate)
    assert [r["step"] for r in checkpoint_records(site)][-1] == 4  # the latest is never dropped


@contextlib.contextmanager
def held_at_step_two(
    repo: Path, gate: Path, pushed: Callable[[], list[dict]], **env: str
) -> Iterator[subprocess.Popen]:
    """`llmpipe repro` in `repo`, its training held after checkpoint 2 (waiting for `gate`)
    once `pushed()` (the checkpoint records on the remote) ends with step 2; on leaving,
    released and finished, successfully."""
    process = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "repro"],
        cwd=repo,
        env={**llmpipe_env(), "GATE": str(gate), "LLMPIPE_REMOTE_KEY": KEY, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while [r["step"] for r in pushed()][-1:] != [2]:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        yield process
    finally:
        gate.write_text("go")
        process.communicate(timeout=120)
    assert process.returncode == 0


def remote_path(repo: Path, oid: str) -> str:
    """Where `oid` lives on `repo`'s default remote (a keyed name when it is encrypted)."""
    from llmpipe.remote.ops import open_layout
    from llmpipe.repo import Repo

    project = Repo(str(repo))
    layout = open_layout(project, project.config.remote(), create=False)
    try:
        return layout.path(oid)
    finally:
        layout.backend.close()


def test_corrupt_checkpoint_on_the_remote_is_refused_and_the_one_before_used(
    tmp_path, remote_kind, monkeypatch
) -> None:
    kind, site = remote_kind
    encrypt = kind == "encrypted"
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", KEY)
    origin = make_origin(tmp_path)
    a = clone(origin, tmp_path / "a", site, encrypt)
    # The script waits for each checkpoint to be pushed; the command
    # dies writing checkpoint 4, which is never pushed.
    run_cli(a, "repro", env={"DIE_AFTER": "3", "SYNC": "1"}, check=False)
    pushed = json.loads(run_cli(a, "checkpoints", "list", "train", "--json").stdout)
    assert [(r["step"], r["name"]) for r in pushed] == [
        (step, f"step-{step:06d}") for step in (1, 2, 3)
    ]
    # Corrupt the object only the newest checkpoint has (its w.txt), as stored.
    manifest = json.loads((a / ".dvc" / "cache" / _object(pushed[-1]["tree"])).read_text())
    newest = {e["md5"] for e in manifest if e["relpath"].startswith("step-000003/")}
    older = {e["md5"] for e in manifest if not e["relpath"].startswith("step-000003/")}
    victim = remote_path(a, sorted(newest - older)[0])
    damaged = bytearray(site.read(victim))
    damaged[-1] ^= 1
    site.write(victim, bytes(damaged))

    # Chosen by name, it is an error naming the object, and the workspace is untouched.
    c = clone(origin, tmp_path / "c", site, encrypt)
    chosen = run_cli(c, "repro", "train", "--from-checkpoint", pushed[-1]["id"], check=False)
    assert chosen.returncode == 1 and "ERROR:" in chosen.stderr
    assert ("corrupt" in chosen.stderr) or ("authentication" in chosen.stderr), chosen.stderr
    assert not (c / "ckpts").exists()

    # Found by itself, it is refused with a notice and the one before it is resumed from.
    b = clone(origin, tmp_path / "b", site, encrypt)
    result = run_cli(b, "repro")
    assert f"refused checkpoint {pushed[-1]['id']}" in result.stderr
    assert "start 2" in result.stdout, result.stderr

    # On the machine that died, the half-written folder is not resumed from either.
    assert (a / "ckpts" / ".step-000004.tmp").is_dir()
    again = run_cli(a, "repro")
    assert "start 3" in again.stdout and not (a / "ckpts" / ".step-000004.tmp").exists()
    assert (a / "ckpts" / "step-000004" / "w.txt").read_bytes() == (
        b / "ckpts" / "step-000004" / "w.txt"
    ).read_bytes()


def test_a_project_without_remote_trains_as_before(tmp_path) -> None:
    origin = make_origin(tmp_path)
    result = run_cli(origin, "repro")
    assert "start 0" in result.stdout and result.stderr == ""


@needs_dvc
@pytest.mark.dvc
def test_dvc_reads_the_checkpoint_declaration(tmp_path) -> None:
    origin = make_origin(tmp_path)
    run_cli(origin, "repro")
    status = subprocess.run(
        ["dvc", "status"], cwd=origin, capture_output=True, text=True, check=True
    )
    assert "up to date" in status.stdout


def _object(oid: str) -> str:
    return f"files/md5/{oid[:2]}/{oid[2:]}"


def test_list_show_restore_and_repro_from_a_checkpoint(tmp_path) -> None:
    site = local_site(tmp_path / "remote")
    a = clone(make_origin(tmp_path), tmp_path / "a", site)
    run_cli(a, "repro", env={"SYNC": "1"})
    lock = (a / "dvc.lock").read_bytes()

    listed = json.loads(run_cli(a, "checkpoints", "list", "train", "--json").stdout)
    assert [r["step"] for r in listed] == [1, 2, 3, 4]
    assert [r["parent"] for r in listed] == [None] + [r["id"] for r in listed[:-1]]
    assert {r["run"]["state"] for r in listed} == {"finished"}
    table = run_cli(a, "checkpoints", "list", "train").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "STEP", "CREATED"]
    assert listed[1]["id"] in table[2] and "loss=0.5" in table[2]

    second = listed[1]["id"]
    shown = json.loads(run_cli(a, "checkpoints", "show", "train", second).stdout)
    assert shown["step"] == 2 and shown["metrics"] == {"loss": 0.5}

    run_cli(a, "checkpoints", "restore", "train", second)
    assert sorted(p.name for p in (a / "ckpts").iterdir()) == ["step-000001", "step-000002"]

    resumed = run_cli(a, "repro", "train", "--from-checkpoint", second)
    assert "start 2" in resumed.stdout
    assert (a / "dvc.lock").read_bytes() == lock

    missing = run_cli(a, "checkpoints", "show", "train", "nosuch", check=False)
    assert missing.returncode == 1 and "no checkpoint 'nosuch'" in missing.stderr


def test_retention_keeps_the_last_n_and_every_kth(tmp_path) -> None:
    site = local_site(tmp_path / "remote")
    origin = make_origin(tmp_path)
    text = DVC_YAML.replace(
        "checkpoints: ckpts", "checkpoints: {path: ckpts, keep_last: 1, keep_every: 2}"
    )
    (origin / "dvc.yaml").write_text(text)
    git(origin, "commit", "-q", "-am", "retention")
    a = clone(origin, tmp_path / "a", site)
    run_cli(a, "repro", env={"SYNC": "1"})
    kept = checkpoint_records(site)
    assert kept[-1]["step"] == 4  # the newest is always kept
    last = kept[-1]["seq"]  # pushed checkpoints are numbered 1, 2, … in each run
    assert [r["seq"] for r in kept] == sorted({last} | set(range(2, last + 1, 2)))


def test_gc_keeps_what_a_resumable_stage_needs(tmp_path) -> None:
    site = local_site(tmp_path / "remote")
    a = clone(make_origin(tmp_path), tmp_path / "a", site)
    run_cli(a, "repro", env={"DIE_AFTER": "2", "SYNC": "1"}, check=False)
    latest = checkpoint_records(site)[-1]
    run_cli(a, "gc", "-w", "-f")
    cache = a / ".dvc" / "cache"
    manifest = json.loads((cache / _object(latest["tree"])).read_text())
    assert all((cache / _object(e["md5"])).exists() for e in manifest)

    run_cli(a, "repro")  # finished: its checkpoints are the lock's output now
    assert json.loads((a / ".llmpipe/checkpoints/train.json").read_text())["state"] == "finished"
