"""Checkpoint streaming: training slowdown with streaming on vs off, and the time from
"checkpoint complete" to "on the remote" against a raw copy of the same bytes.

    python benchmarks/bench_checkpoints.py [--mb 200] [--checkpoints 10]

Runs the real CLI on temp git repositories (folder remote). The "training" is a
CPU-bound loop writing a checkpoint every `--every` seconds of work; its own
reported compute time is compared, streaming on (a default remote) vs off (none).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN = """\
import hashlib, os, sys, time
from llmpipe import checkpoint
n, mb = int(sys.argv[1]), float(sys.argv[2])
os.makedirs("ckpts", exist_ok=True)
work = 0.0
blob = os.urandom(int(mb * 2**20))
for step in range(1, n + 1):
    t = time.perf_counter()
    data = b"x" * 4096
    for _ in range(60000):
        data = hashlib.sha256(data).digest() * 128
    work += time.perf_counter() - t
    with checkpoint.save("ckpts", step) as folder:
        with open(os.path.join(folder, "w.bin"), "wb") as f:
            f.write(blob[: len(blob) - step] + bytes([step]))
print(f"WORK {work:.4f}")
"""
DVC_YAML = """\
stages:
  train:
    cmd: python train.py {n} {mb}
    outs:
      - ckpts:
          persist: true
    meta:
      llmpipe:
        checkpoints: ckpts
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "llmpipe", *args],
        cwd=cwd,
        env=env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def project(base: Path, n: int, mb: float, remote: Path | None) -> Path:
    path = base / f"p{time.monotonic_ns()}"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    (path / "train.py").write_text(TRAIN)
    (path / "dvc.yaml").write_text(DVC_YAML.format(n=n, mb=mb))
    cli(path, "init")
    if remote is not None:
        cli(path, "remote", "add", "-d", "store", str(remote))
    return path


def training_work(base: Path, n: int, mb: float, stream: bool) -> float:
    path = project(base, n, mb, base / f"remote{time.monotonic_ns()}" if stream else None)
    out = cli(path, "repro")
    return float(next(line for line in out.splitlines() if line.startswith("WORK")).split()[1])


def time_to_remote(base: Path, mb: int) -> tuple[float, float]:
    """(snapshot + push of one new checkpoint of `mb` MB, raw copy of its bytes)."""
    from llmpipe.ckpt.objects import push_tree
    from llmpipe.ckpt.snapshot import take_snapshot
    from llmpipe.project import Project
    from llmpipe.remote.ops import open_layout

    path = project(base, 1, 1, base / "remote-push")
    ckpts = path / "ckpts"
    ckpts.mkdir()
    staging = ckpts / ".step-000001.tmp"
    staging.mkdir()
    with open(staging / "w.bin", "wb") as handle:
        for _ in range(mb):
            handle.write(os.urandom(2**20))
    os.replace(staging, ckpts / "step-000001")
    with Project(str(path)) as proj:
        remote = proj.config.remote()
        layout = open_layout(proj, remote, create=True)
        start = time.perf_counter()
        snap = take_snapshot(str(ckpts), proj.odb, proj.state)
        push_tree(proj.odb, layout, remote, snap.info, str(base / "scratch"), set())
        streamed = time.perf_counter() - start
        layout.backend.close()
    start = time.perf_counter()
    shutil.copyfile(ckpts / "step-000001" / "w.bin", base / "raw-copy.bin")
    with open(base / "raw-copy.bin", "rb") as handle:
        os.fsync(handle.fileno())
    raw = time.perf_counter() - start
    return streamed, raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--checkpoints", type=int, default=10)
    parser.add_argument("--train-mb", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        base = Path(tmp)
        off = min(
            training_work(base, args.checkpoints, args.train_mb, False) for _ in range(args.repeat)
        )
        on = min(
            training_work(base, args.checkpoints, args.train_mb, True) for _ in range(args.repeat)
        )
        pushes = [
            time_to_remote(base / f"r{i}", args.mb)
            for i in range(args.repeat)
            if not (base / f"r{i}").mkdir()
        ]
        streamed, raw = min(p[0] for p in pushes), min(p[1] for p in pushes)
    print(
        f"training compute, streaming off: {off:.3f} s; on: {on:.3f} s; "
        f"slowdown {100 * (on / off - 1):+.1f}%"
    )
    print(
        f"{args.mb} MB checkpoint complete -> on folder remote: {streamed:.3f} s; "
        f"raw copy: {raw:.3f} s; ratio {streamed / raw:.2f}x"
    )


if __name__ == "__main__":
    main()
