# ruff: noqa: E501
"""Sweep benchmark: 4 configs over a 3-stage trivial pipeline, 2 workers, llmpipe vs dvc.

llmpipe: `llmpipe sweep train.lr=1,2,3,4 -j 2` (joblib launcher, shared `prepare`
run once). dvc: `dvc exp run --queue -S train.lr=N` four times, then
`dvc queue start -j 2` and polling `dvc queue status` until nothing is queued or
running. Each tool gets a fresh copy of the same git project. Times are wall-clock
seconds of everything each tool needs (queueing included); ratio = dvc / llmpipe.

    python benchmarks/bench_sweep.py [--repeat N] [--out benchmarks/results/sweep.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VALUES = ("1", "2", "3", "4")
TARGET = 4.0
PARAMS = "prep:\n  n: 3\ntrain:\n  lr: 0\n"
DVC_YAML = """\
stages:
  prepare:
    cmd: python -c "open('data.txt','w').write('3')"
    params: [prep.n]
    outs: [data.txt]
  train:
    cmd: python -c "import yaml; p=yaml.safe_load(open('params.yaml')); open('model.txt','w').write(str(p['train']['lr']))"
    deps: [data.txt]
    params: [train.lr]
    outs: [model.txt]
  evaluate:
    cmd: python -c "import json; json.dump(dict(loss=1/float(open('model.txt').read())), open('metrics.json','w'))"
    deps: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@invalid",
    "DVC_NO_ANALYTICS": "1",
    "PYTHONPATH": str(REPO),
}


def sh(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def make_project(path: Path, tool: str) -> None:
    path.mkdir(parents=True)
    sh(path, "git", "init", "-q", "-b", "main")
    if tool == "dvc":
        sh(path, "dvc", "init", "-q")
    else:
        sh(path, sys.executable, "-m", "llmpipe", "init")
    (path / "params.yaml").write_text(PARAMS)
    (path / "dvc.yaml").write_text(DVC_YAML)
    sh(path, "git", "add", "-A")
    sh(path, "git", "commit", "-qm", "pipeline")


def time_llmpipe(path: Path) -> float:
    start = time.perf_counter()
    sh(
        path,
        sys.executable,
        "-m",
        "llmpipe",
        "sweep",
        "train.lr=" + ",".join(VALUES),
        "-j",
        "2",
        "-q",
    )
    return time.perf_counter() - start


def time_dvc(path: Path) -> float:
    start = time.perf_counter()
    for value in VALUES:
        sh(path, "dvc", "exp", "run", "--queue", "-S", f"train.lr={value}")
    sh(path, "dvc", "queue", "start", "-j", "2")
    while True:
        status = sh(path, "dvc", "queue", "status")
        if not any(word in status for word in ("Queued", "Running")):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    if "Failed" in status or status.count("Success") < len(VALUES):
        raise SystemExit(f"dvc queue did not finish cleanly:\n{status}")
    sh(path, "dvc", "queue", "stop", "--kill")
    return elapsed


def check_llmpipe(path: Path) -> None:
    out = sh(path, sys.executable, "-m", "llmpipe", "sweep", "show", "--json")
    if out.count('"succeeded"') != len(VALUES):
        raise SystemExit(f"llmpipe sweep did not succeed:\n{out}")


def machine() -> str:
    cpus = os.cpu_count()
    dvc = sh(REPO, "dvc", "--version").strip()
    return f"{platform.platform()}, Python {platform.python_version()}, {cpus} CPUs, dvc {dvc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "sweep.md"))
    args = parser.parse_args()
    best = {"llmpipe": float("inf"), "dvc": float("inf")}
    for attempt in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            for tool, timer in (("llmpipe", time_llmpipe), ("dvc", time_dvc)):
                path = Path(tmp) / f"{tool}-{attempt}"
                make_project(path, tool)
                best[tool] = min(best[tool], timer(path))
                if tool == "llmpipe":
                    check_llmpipe(path)
            shutil.rmtree(tmp, ignore_errors=True)
    ratio = best["dvc"] / best["llmpipe"]
    report = "\n".join(
        [
            "# Sweep benchmark",
            "",
            "4 configs (`train.lr=1,2,3,4`) over a 3-stage pipeline of trivial commands, 2 workers.",
            "llmpipe: `llmpipe sweep train.lr=1,2,3,4 -j 2` (Hydra joblib launcher).",
            "dvc: `dvc exp run --queue -S train.lr=N` x4, `dvc queue start -j 2`, poll `dvc queue status`.",
            "",
            "| scenario | dvc (s) | llmpipe (s) | ratio | target | met |",
            "|---|---|---|---|---|---|",
            f"| sweep 4 configs, 2 workers | {best['dvc']:.2f} | {best['llmpipe']:.2f} | "
            f"{ratio:.1f}x | >= {TARGET:.0f}x | {'yes' if ratio >= TARGET else 'no'} |",
            "",
            f"Best of {args.repeat} run(s). Machine: {machine()}.",
            "",
        ]
    )
    print(report)
    Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
