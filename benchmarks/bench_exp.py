"""Time `llmpipe exp show` against `dvc exp show` on the same experiments; print a report.

One generated repository (git + `dvc init`): main and two more branches, and
`--experiments` (50) experiments spread over the three, made with `llmpipe exp
run -S` (dvc lists them as its own). Both tools then list every branch's
experiments (`exp show -a`, as JSON and as a table), read-only, on the same
repository; the JSON of the two is checked equal first. Times are seconds of
the whole command (a subprocess), best of `--repeat` (dvc's own experiment cache
and so is llmpipe's, `.llmpipe/tmp/exps`, after the first): wall clock, and CPU
(user + system, the command and its children, git included), which a machine
busy with other work disturbs less; ratio = dvc / llmpipe, target ≥ 5×. The
"cold" row removes both tools' experiment caches before every run. dvc is run
from the interpreter's own bin/ (as llmpipe is), not through a version manager's
shim, which would add its start-up to dvc's time. llmpipe's modules are compiled
to bytecode first, as an installed package's are.

    python benchmarks/bench_exp.py [--experiments 50] [--repeat 3] [--out FILE] [--repo DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_compare import DVC_YAML, ENV, LLMPIPE, REPO, TRAIN, sh

BRANCHES = ("main", "bigger", "smaller")
# The real dvc script beside this interpreter: a pyenv shim in front of it costs ~70 ms.
DVC = shutil.which("dvc", path=os.path.dirname(sys.executable)) or "dvc"
TARGET = 5.0


def build(root: Path, experiments: int) -> None:
    """Three branches, each a baseline; `experiments` experiments spread over them."""
    sh("git", "init", "-q", "-b", "main", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    (root / "train.py").write_text(TRAIN.replace('range(p["epochs"])', "range(3)"))
    (root / "dvc.yaml").write_text(DVC_YAML)
    for index, branch in enumerate(BRANCHES):
        if index:
            sh("git", "checkout", "-q", "-f", "-b", branch, "main", cwd=root)
        params = f"train:\n  lr: 0.1\n  dropout: {index / 10}\n  epochs: 3\nseed: 1\n"
        (root / "params.yaml").write_text(params)
        sh(*LLMPIPE, "repro", "-q", cwd=root)
        sh("git", "add", "-A", cwd=root)
        sh("git", "commit", "-q", "-m", branch, cwd=root)
        share = experiments // len(BRANCHES) + (index < experiments % len(BRANCHES))
        for number in range(share):
            lr = round(0.001 * (number + 2), 4)
            sh(*LLMPIPE, "exp", "run", "-q", "-S", f"train.lr={lr}", cwd=root)
    sh("git", "checkout", "-q", "-f", "main", cwd=root)
    sh(*LLMPIPE, "checkout", "-q", "-f", cwd=root)


def best(cmd: list[str], cwd: Path, repeat: int, cold: bool = False) -> tuple[float, float]:
    """(wall, cpu) seconds of `cmd`, each the best of `repeat` runs (`cold`: with no
    experiment cache of either tool)."""
    walls, cpus = [], []
    for _ in range(repeat):
        if cold:
            for cache in (".dvc/tmp/exps/cache", ".llmpipe/tmp/exps"):
                shutil.rmtree(cwd / cache, ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        sh(*cmd, cwd=cwd)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def scenarios() -> list[tuple[str, list[str], list[str], bool]]:
    return [
        ("`exp show -a --json`", [*LLMPIPE, "exp", "show", "-a", "--json"],
         [DVC, "exp", "show", "-a", "--json"], False),
        ("`exp show -a` (table)", [*LLMPIPE, "exp", "show", "-a"],
         [DVC, "exp", "show", "-a", "--no-pager"], False),
        ("`exp show -a --json`, cold", [*LLMPIPE, "exp", "show", "-a", "--json"],
         [DVC, "exp", "show", "-a", "--json"], True),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also append the Markdown report here")
    parser.add_argument(
        "--repo", type=Path, help="build the repository here (if absent) and keep it"
    )
    args = parser.parse_args()
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "llmpipe")], check=True)
    work = Path(tempfile.mkdtemp(prefix="bench-exp-"))
    try:
        root = args.repo or work / "repo"
        if not root.exists():
            root.mkdir(parents=True)
            build(root, args.experiments)
        ours = json.loads(sh(*LLMPIPE, "exp", "show", "-a", "--json", cwd=root))
        if ours != json.loads(sh(DVC, "exp", "show", "-a", "--json", cwd=root)):
            raise SystemExit("llmpipe and dvc list different experiments; not timing")
        rows = []
        for name, mine, theirs, cold in scenarios():
            t_dvc = best(theirs, root, args.repeat, cold)
            t_ours = best(mine, root, args.repeat, cold)
            rows.append((name, t_dvc, t_ours))
            print(f"{name}: dvc {t_dvc} llmpipe {t_ours}", file=sys.stderr)
        report = render(rows, args)
        print(report)
        if args.out:
            with args.out.open("a", encoding="utf-8") as handle:
                handle.write("\n" + report)
    finally:
        shutil.rmtree(work, ignore_errors=True)


Times = tuple[float, float]


def render(rows: list[tuple[str, Times, Times]], args: argparse.Namespace) -> str:
    lines = [
        "## Experiments (`exp show`)",
        "",
        f"{args.experiments} experiments over {len(BRANCHES)} branches (baselines), made with"
        f" `llmpipe exp run -S`; best of {args.repeat}; wall-clock seconds of the whole"
        " command; ratio = dvc / llmpipe; both tools' JSON checked equal first.",
        "",
        "| scenario | dvc wall (s) | llmpipe wall (s) | ratio | dvc CPU (s) | llmpipe CPU (s)"
        " | ratio | target | met (wall) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, (w_dvc, c_dvc), (w_ours, c_ours) in rows:
        ratio = w_dvc / w_ours
        met = "yes" if ratio >= TARGET else "**no**"
        lines.append(
            f"| {name} | {w_dvc:.3f} | {w_ours:.3f} | {ratio:.1f}× | {c_dvc:.3f} | {c_ours:.3f}"
            f" | {c_dvc / c_ours:.1f}× | 5× | {met} |"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += ["", f"Load average when the timing ended: {load} (on {os.cpu_count()} CPUs)."]
    lines += [
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}, {sh('dvc', '--version', cwd=REPO).strip()} (dvc),"
        f" {sh('git', '--version', cwd=REPO).strip()}.",
        "",
        "Command: `python benchmarks/bench_exp.py --out benchmarks/RESULTS.md`",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
