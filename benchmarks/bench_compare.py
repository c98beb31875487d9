"""Time `llmpipe metrics/params/plots` against `dvc` across git branches; print a report.

One generated repository (git + `dvc init`) with N experiment branches, each a
commit with its own params.yaml, a committed metrics file, a cached metrics
file (read through dvc.lock and the cache) and a loss curve. Both tools run
read-only commands on the same repository. Times are wall-clock seconds of the
whole command (a subprocess), best of `--repeat`; ratio = dvc / llmpipe.

    python benchmarks/bench_compare.py [--branches 20] [--repeat 3] [--out FILE]
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
ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO),
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@llmpipe.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@llmpipe.invalid",
    "DVC_NO_ANALYTICS": "1",
}
LLMPIPE = [sys.executable, "-m", "llmpipe"]

TRAIN = """\
import json, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
json.dump({"acc": p["lr"] * 2, "loss": {"train": 1 - p["lr"], "val": 1.1 - p["lr"]}},
          open("metrics.json", "w"))
json.dump({"f1": p["lr"] * 3, "bleu": p["dropout"]}, open("eval.json", "w"))
with open("loss.csv", "w") as f:
    f.write("step,loss\\n")
    f.writelines(f"{s},{p['lr'] / (s + 1)}\\n" for s in range(p["epochs"]))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train]
    metrics:
      - metrics.json: {cache: false}
      - eval.json
    plots:
      - loss.csv: {cache: false, x: step, y: loss}
"""


def sh(*cmd: str, cwd: Path) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def build(root: Path, branches: int) -> None:
    """main plus `branches` experiment branches, each with its own params and metrics."""
    sh("git", "init", "-q", "-b", "main", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    (root / "train.py").write_text(TRAIN)
    (root / "dvc.yaml").write_text(DVC_YAML)
    for index in range(branches + 1):
        name = "main" if index == 0 else f"exp-{index:02d}"
        if index:
            sh("git", "checkout", "-q", "-b", name, "main", cwd=root)
        lr = round(0.01 * (index + 1), 4)
        params = f"train:\n  lr: {lr}\n  dropout: {index / 100}\n  epochs: 50\nseed: 1\n"
        (root / "params.yaml").write_text(params)
        sh(*LLMPIPE, "repro", "-q", cwd=root)
        sh("git", "add", "-A", cwd=root)
        sh("git", "commit", "-q", "-m", name, cwd=root)
    sh("git", "checkout", "-q", "main", cwd=root)
    sh(*LLMPIPE, "checkout", "-q", cwd=root)


def best(cmd: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sh(*cmd, cwd=cwd)
        times.append(time.perf_counter() - start)
    return min(times)


def scenarios(out: Path) -> list[tuple[str, list[list[str]], list[list[str]]]]:
    """(name, llmpipe commands, dvc commands); times of several commands add up."""
    return [
        (
            "metrics diff exp-01 exp-02",
            [[*LLMPIPE, "metrics", "diff", "exp-01", "exp-02", "--json"]],
            [["dvc", "metrics", "diff", "exp-01", "exp-02", "--json"]],
        ),
        (
            "params diff exp-01 exp-02",
            [[*LLMPIPE, "params", "diff", "exp-01", "exp-02", "--json"]],
            [["dvc", "params", "diff", "exp-01", "exp-02", "--json"]],
        ),
        (
            "metrics show, all branches",
            [[*LLMPIPE, "metrics", "show", "-a", "--json"]],
            [["dvc", "metrics", "show", "-a", "--json"]],
        ),
        (
            "exp-show-style listing (metrics + params), all branches",
            [[*LLMPIPE, "metrics", "show", "-a", "--params", "--json"]],
            [["dvc", "exp", "show", "-a", "--json"]],
        ),
        (
            "plots diff exp-01 exp-02 (HTML)",
            [[*LLMPIPE, "plots", "diff", "exp-01", "exp-02", "-o", str(out / "l")]],
            [["dvc", "plots", "diff", "exp-01", "exp-02", "-o", str(out / "d")]],
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    try:
        root = work / "repo"
        root.mkdir()
        build(root, args.branches)
        rows = []
        for name, ours, theirs in scenarios(work):
            t_ours = sum(best(c, root, args.repeat) for c in ours)
            t_dvc = sum(best(c, root, args.repeat) for c in theirs)
            rows.append((name, t_dvc, t_ours))
            print(f"{name}: dvc {t_dvc:.3f}s llmpipe {t_ours:.3f}s ×{t_dvc / t_ours:.1f}")
        report = render(rows, args)
        print(report)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(rows: list[tuple[str, float, float]], args: argparse.Namespace) -> str:
    dvc_version = sh("dvc", "--version", cwd=REPO).strip()
    lines = [
        "# Comparing revisions: llmpipe vs dvc",
        "",
        f"{args.branches} experiment branches + main; best of {args.repeat}; wall-clock seconds"
        " of the whole command; ratio = dvc / llmpipe; target ≥ 3×.",
        "",
        "| scenario | dvc (s) | llmpipe (s) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for name, t_dvc, t_ours in rows:
        ratio = t_dvc / t_ours
        met = "yes" if ratio >= 3 else "no"
        lines.append(f"| {name} | {t_dvc:.3f} | {t_ours:.3f} | {ratio:.1f}× | 3× | {met} |")
    lines += [
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}, dvc {dvc_version},"
        f" {sh('git', '--version', cwd=REPO).strip()}.",
        "",
        "Command: `python benchmarks/bench_compare.py --out benchmarks/results/compare.md`",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
