"""A project with experiments: 3 branches and a 6-job sweep, built by the real CLI.

`prepare` writes the data; `train` reads it and `train.lr`/`train.epochs`, writes a
model, a loss curve (`logs/loss.csv`, a cached plots output, so commits and sweep
jobs read it from the cache) and `metrics.json` (committed, `cache: false`).

Branches: main (lr 0.1), exp-fast (lr 0.3), exp-slow (lr 0.03, 12 epochs); the
sweep `train.lr=0.05,0.1,0.2 train.epochs=8,16` runs from main.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import GIT_ENV, llmpipe_env

PREPARE = """\
import os
os.makedirs("data", exist_ok=True)
open("data/clean.txt", "w").write(open("raw.txt").read().upper())
"""

TRAIN = """\
import json, math, os, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
lr, epochs = p["lr"], p["epochs"]
size = len(open("data/clean.txt").read())
losses = [round(2.0 * math.exp(-lr * step) + 0.1 + size / 1000, 6) for step in range(epochs)]
os.makedirs("logs", exist_ok=True)
with open("logs/loss.csv", "w") as handle:
    handle.write("step,loss\\n")
    handle.writelines(f"{step},{loss}\\n" for step, loss in enumerate(losses))
open("model.bin", "w").write(f"lr={lr} epochs={epochs}\\n")
json.dump({"loss": losses[-1], "acc": round(1 - losses[-1] / 3, 6)}, open("metrics.json", "w"))
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py, raw.txt]
    outs: [data/clean.txt]
  train:
    cmd: python train.py
    deps: [train.py, data/clean.txt]
    params: [train]
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
    plots:
      - logs/loss.csv:
          x: step
          y: loss
"""

PARAMS = "train:\n  lr: {lr}\n  epochs: {epochs}\n  seed: 7\n"
BRANCHES = {"main": (0.1, 10), "exp-fast": (0.3, 10), "exp-slow": (0.03, 12)}
SWEEP = ("train.lr=0.05,0.1,0.2", "train.epochs=8,16")


def run(path: Path, *command: str) -> str:
    result = subprocess.run(
        command, cwd=path, capture_output=True, text=True, env={**llmpipe_env(), **GIT_ENV}
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def llmpipe(path: Path, *args: str) -> str:
    return run(path, sys.executable, "-m", "llmpipe", *args)


def build(path: Path) -> Path:
    """The project at `path`: the branches committed after their repro, then the sweep."""
    path.mkdir(parents=True)
    run(path, "git", "init", "-q", "-b", "main")
    (path / "raw.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 4)
    (path / "prepare.py").write_text(PREPARE)
    (path / "train.py").write_text(TRAIN)
    (path / "dvc.yaml").write_text(DVC_YAML)
    llmpipe(path, "init")
    for branch, (lr, epochs) in BRANCHES.items():
        if branch != "main":
            run(path, "git", "checkout", "-q", "-b", branch, "main")
        (path / "params.yaml").write_text(PARAMS.format(lr=lr, epochs=epochs))
        llmpipe(path, "repro")
        run(path, "git", "add", "-A")
        run(path, "git", "commit", "-q", "-m", f"experiment {branch}: lr {lr}")
    run(path, "git", "checkout", "-q", "main")
    llmpipe(path, "checkout")
    llmpipe(path, "sweep", *SWEEP)
    return path
