"""Training killed mid-run resumes from its last complete checkpoint, with identical results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.pipelines.conftest import make_repo, needs_torch, tiny_params

needs_torch()

MAX_STEPS = 200
INTERVAL = 20


def complete_checkpoints(path) -> list[int]:
    if not path.is_dir():
        return []
    return sorted(int(p.name[5:]) for p in path.iterdir() if p.name.startswith("step-"))


def kill_after_first_checkpoint(repo) -> list[int]:
    """Start `llmpipe repro`, SIGKILL its whole process group once a checkpoint exists."""
    process = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "repro"],
        cwd=repo.path,
        env=repo.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    folder = repo.path / "models/checkpoints"
    deadline = time.monotonic() + 300
    try:
        while not complete_checkpoints(folder):
            assert process.poll() is None, "repro ended before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 300 s"
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return complete_checkpoints(folder)


def test_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    params = tiny_params(
        train={
            "max_steps": MAX_STEPS,
            "checkpoint_interval": INTERVAL,
            "eval_interval": INTERVAL,
            "log_interval": 50,
        }
    )
    repo = make_repo(tmp_path / "repo", params)
    repo.repro("prepare")  # the kill below then lands in training

    steps = kill_after_first_checkpoint(repo)
    assert steps and steps[-1] < MAX_STEPS, f"training was not interrupted: {steps}"
    last = steps[-1]
    untracked = repo.run("git", "status", "--porcelain", "--untracked-files=all").stdout
    assert "models/" not in untracked and "reports/" not in untracked  # ignored even mid-run

    result = repo.repro()
    assert (
        f"train: resuming from models/checkpoints/step-{last:06d} (step {last}/{MAX_STEPS})"
        in result.stdout
    )
    assert f"train: step {INTERVAL}/" not in result.stdout  # earlier steps were not redone
    log_steps = [
        int(line.split(",")[0])
        for line in (repo.path / "reports/train_log.csv").read_text().splitlines()[1:]
    ]
    assert log_steps == list(range(1, MAX_STEPS + 1))

    # The same settings, uninterrupted, in folders outside the pipeline's outputs.
    reference = tmp_path / "reference"
    repo.run(
        sys.executable,
        "-m",
        "pipelines.llm.train",
        "--checkpoints",
        str(reference / "ckpt"),
        "--train-log",
        str(reference / "train.csv"),
        "--val-log",
        str(reference / "val.csv"),
    )
    final = f"step-{MAX_STEPS:06d}/model.safetensors"
    resumed = (repo.path / "models/checkpoints" / final).read_bytes()
    assert resumed == (reference / "ckpt" / final).read_bytes()
    assert (repo.path / "reports/train_log.csv").read_text() == (
        reference / "train.csv"
    ).read_text()
    assert (repo.path / "reports/val_log.csv").read_text() == (reference / "val.csv").read_text()
