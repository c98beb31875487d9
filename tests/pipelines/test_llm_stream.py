"""The reference `train` streams its checkpoints: killed on one clone, finished on another.

Clone A trains until its second checkpoint is on the (folder) remote; then `train` is
killed with SIGKILL and clone A is deleted. `llmpipe repro` in clone B fetches that
checkpoint and resumes; its weights, checkpoints and dvc.lock are byte-identical to
those of clone C, which trained without interruption.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pipelines.conftest import PipelineRepo, make_repo, needs_torch, tiny_params

needs_torch()

MAX_STEPS = 100
INTERVAL = 20


def clone(origin: PipelineRepo, where: Path, remote: Path) -> PipelineRepo:
    origin.run("git", "clone", "-q", str(origin.path), str(where))
    repo = PipelineRepo(where)
    assert repo.llmpipe("remote", "add", "-d", "store", str(remote)).returncode == 0
    return repo


def pushed_steps(remote: Path) -> list[int]:
    records = remote.glob("llmpipe/checkpoints/train/*/ckpt-*.json")
    return sorted(json.loads(p.read_text())["step"] for p in records)


def train_pid(repo: PipelineRepo) -> int | None:
    """The `train` stage's python process running in `repo`, if any."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if b"pipelines.llm.train" in cmdline and cwd == str(repo.path):
            return int(entry.name)
    return None


def kill_train_after_second_checkpoint(repo: PipelineRepo, remote: Path) -> None:
    """Run `llmpipe repro` in `repo`; SIGKILL `train` once two checkpoints are pushed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "repro"],
        cwd=repo.path,
        env=repo.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    second = repo.path / f"models/checkpoints/step-{2 * INTERVAL:06d}"
    deadline = time.monotonic() + 300
    pid = None
    while not second.exists():
        assert process.poll() is None, "repro ended before the second checkpoint"
        assert time.monotonic() < deadline
        pid = pid or train_pid(repo)
        time.sleep(0.005)
    pid = pid or train_pid(repo)
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # hold training here while the watcher pushes
    while 2 * INTERVAL not in pushed_steps(remote):
        assert time.monotonic() < deadline, "the second checkpoint never reached the remote"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and b"SIGKILL" in err, (out, err)


def test_train_killed_on_one_clone_finishes_identically_on_another(tmp_path) -> None:
    params = tiny_params(
        train={"max_steps": MAX_STEPS, "checkpoint_interval": INTERVAL, "log_interval": 50}
    )
    origin = make_repo(tmp_path / "origin", params)
    remote = tmp_path / "remote"

    a = clone(origin, tmp_path / "a", remote)
    kill_train_after_second_checkpoint(a, remote)
    last = max(pushed_steps(remote))
    assert 2 * INTERVAL <= last < MAX_STEPS
    shutil.rmtree(a.path)

    b = clone(origin, tmp_path / "b", remote)
    result = b.repro()
    assert f"train: resuming from models/checkpoints/step-{last:06d}" in result.stdout

    c = clone(origin, tmp_path / "c", tmp_path / "other-remote")
    c.repro()
    final = f"models/checkpoints/step-{MAX_STEPS:06d}/model.safetensors"
    assert (b.path / final).read_bytes() == (c.path / final).read_bytes()
    assert (b.path / "dvc.lock").read_bytes() == (c.path / "dvc.lock").read_bytes()
