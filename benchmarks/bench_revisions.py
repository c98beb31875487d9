"""Time the commands that read outputs at many revisions: `push -A` and `gc --all-commits`.

One generated repository: `--commits` commits on main, each changing two of
`--files` data files tracked by `.dvc` files and re-running a one-stage
pipeline (so dvc.yaml, dvc.lock and params.yaml are read at every revision);
every commit also gets a branch of its own (`--sources N` adds N committed
code files, one changed per commit). The remote already holds every
object, so `push -A` measures finding the outputs of every branch and asking
the remote which it has. Times are wall-clock seconds of the whole command (a
subprocess), best of `--repeat`. `--checkout DIR` (repeatable) times other
llmpipe checkouts on the same repository, side by side.

    python benchmarks/bench_revisions.py [--commits 50] [--files 20] [--sources 0]
        [--checkout DIR]...
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

REPO = Path(__file__).resolve().parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@llmpipe.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@llmpipe.invalid",
}

DVC_YAML = """\
stages:
  train:
    cmd: python -c "import shutil; shutil.copy('data/f00.txt', 'model.txt')"
    deps: [data/f00.txt]
    params: [train.lr]
    outs: [model.txt]
"""


def sh(*cmd: str, cwd: Path, checkout: Path = REPO) -> str:
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(checkout)}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def llmpipe(*args: str, cwd: Path, checkout: Path = REPO) -> str:
    return sh(sys.executable, "-m", "llmpipe", *args, cwd=cwd, checkout=checkout)


def build(root: Path, commits: int, files: int, sources: int = 0) -> None:
    sh("git", "init", "-q", "-b", "main", cwd=root)
    llmpipe("init", cwd=root)
    (root / "data").mkdir()
    for index in range(sources):  # committed code, in 20 folders
        folder = root / "src" / f"pkg{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{index:04d}.py").write_text(f"VALUE = {index}\n")
    for index in range(files):
        (root / f"data/f{index:02d}.txt").write_text(f"file {index} version 0\n")
    (root / "dvc.yaml").write_text(DVC_YAML)
    names = [f"data/f{index:02d}.txt" for index in range(files)]
    for commit in range(commits):
        for index in (commit % files, (commit * 7 + 3) % files):
            (root / names[index]).write_text(f"file {index} version {commit + 1}\n")
        if sources:
            touched = root / "src" / f"pkg{commit % 20:02d}" / f"mod{commit % sources:04d}.py"
            touched.write_text(f"VALUE = {commit}  # changed\n")
        (root / "params.yaml").write_text(f"train:\n  lr: {commit}\n")
        llmpipe("add", *names, cwd=root)
        llmpipe("repro", "-q", cwd=root)
        sh("git", "add", "-A", cwd=root)
        sh("git", "commit", "-q", "-m", f"commit {commit}", cwd=root)
        sh("git", "branch", f"b{commit:03d}", cwd=root)
    llmpipe("remote", "add", "-d", "store", str(root.parent / "remote"), cwd=root)
    llmpipe("push", "-A", "-q", cwd=root)


def best(args: list[str], cwd: Path, checkout: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        llmpipe(*args, cwd=cwd, checkout=checkout)
        times.append(time.perf_counter() - start)
    return min(times)


SCENARIOS = {
    "push -A (every object already on the remote)": ["push", "-A", "-q"],
    "gc --all-commits --dry": ["gc", "--all-commits", "--dry", "-f", "--json"],
    "gc -a --dry": ["gc", "-a", "--dry", "-f", "--json"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--sources", type=int, default=0, help="committed code files")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--checkout", type=Path, action="append", default=[])
    args = parser.parse_args()
    checkouts = [REPO, *args.checkout]
    work = Path(tempfile.mkdtemp(prefix="bench-revisions-"))
    try:
        root = work / "repo"
        root.mkdir()
        build(root, args.commits, args.files, args.sources)
        header = " | ".join(str(c) for c in checkouts)
        print(f"| scenario | {header} |\n|---|{'---:|' * len(checkouts)}")
        for name, command in SCENARIOS.items():
            times = [best(command, root, c, args.repeat) for c in checkouts]
            print(f"| {name} | {' | '.join(f'{t:.3f}' for t in times)} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
