# ruff: noqa: E501
"""Executor benchmark: dispatch overhead of `repro --executor ray` vs `--executor local`.

A pipeline of N independent trivial stages (`echo i > out/i.txt`), each tool on a fresh
git copy with a folder remote outside it, `-j 2`. The Ray cluster is the tests' own
(a head with no CPUs and WORKERS one-CPU worker nodes on loopback, started and
stopped here). Per-stage overhead = (ray wall time - local wall time) / N. Bytes moved
are the remote folder's size after the run against the outputs' size.

    python benchmarks/bench_cluster.py [--stages 40] [--workers 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.cluster.ray_cluster import ray_cluster  # noqa: E402


def make_project(root: Path, stages: int) -> None:
    root.mkdir(parents=True)
    lines = ["stages:"]
    for i in range(stages):
        lines += [
            f"  s{i}:",
            f"    cmd: mkdir -p out && echo {i} > out/{i}.txt",
            f"    outs: [out/{i}.txt]",
        ]
    (root / "dvc.yaml").write_text("\n".join(lines) + "\n")
    env = _env()
    for command in (
        ["git", "init", "-q"],
        [sys.executable, "-m", "llmpipe", "init"],
        [
            sys.executable,
            "-m",
            "llmpipe",
            "remote",
            "add",
            "-d",
            "store",
            str(root.parent / f"{root.name}-store"),
        ],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "bench"],
    ):
        subprocess.run(command, cwd=root, check=True, capture_output=True, env=env)


def timed_repro(root: Path, executor: str, extra_env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "llmpipe", "repro", "-j", "2", "--executor", executor, "-q"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**_env(), **extra_env},
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.perf_counter() - start


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "b@x.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "b@x.invalid",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    make_project(base / "local", args.stages)
    make_project(base / "ray", args.stages)
    local = timed_repro(base / "local", "local", {})
    with ray_cluster(base / "cluster", workers=args.workers) as cluster:
        ray = timed_repro(base / "ray", "ray", cluster.env())
    outs = folder_bytes(base / "ray" / "out")
    moved = folder_bytes(base / "ray-store")
    report = "\n".join(
        [
            f"# Executor dispatch: {args.stages} trivial stages, -j 2, {args.workers} one-CPU Ray workers",
            "",
            f"machine: {os.cpu_count()} cores (shared)",
            "",
            "| executor | wall s | per stage ms |",
            "|---|---|---|",
            f"| local | {local:.2f} | {1000 * local / args.stages:.0f} |",
            f"| ray | {ray:.2f} | {1000 * ray / args.stages:.0f} |",
            "",
            f"ray/local ratio: {ray / local:.2f}; dispatch overhead per stage: "
            f"{1000 * (ray - local) / args.stages:.0f} ms (goal < 150 ms)",
            f"bytes on the remote after the run: {moved} (outputs: {outs}, the rest is the"
            " project's files snapshot and directory manifests)",
        ]
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report + "\n")


if __name__ == "__main__":
    main()
