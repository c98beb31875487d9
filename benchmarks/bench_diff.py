"""Time `diff` between two revisions of a dataset of many files, llmpipe beside dvc.

One generated repository: a directory of `--files` small files tracked by one
`.dvc` file, committed, then 1% of the files changed, 1% deleted and 1% added
and committed again. `diff HEAD~1 HEAD --json` runs under both tools (their
JSON must agree); times are wall-clock seconds of the whole command (a
subprocess), best of `--repeat`; ratio = dvc time / llmpipe time.

    python benchmarks/bench_diff.py [--files 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@llmpipe.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@llmpipe.invalid",
    "PYTHONPATH": str(REPO),
}
LLMPIPE = (sys.executable, "-m", "llmpipe")


def sh(*cmd: str, cwd: Path) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def build(root: Path, files: int) -> None:
    sh("git", "init", "-q", "-b", "main", cwd=root)
    sh(*LLMPIPE, "init", cwd=root)
    data = root / "data"
    for index in range(files):
        folder = data / f"part{index // 1000:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index:06d}.txt").write_text(f"file {index}\n")
    sh(*LLMPIPE, "add", "-q", "data", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "one", cwd=root)
    step = 100
    for index in range(0, files, step):
        path = data / f"part{index // 1000:02d}" / f"f{index:06d}.txt"
        path.write_text(f"file {index} changed\n")
        (data / f"part{(index + 1) // 1000:02d}" / f"f{index + 1:06d}.txt").unlink()
        (data / f"new{index:06d}.txt").write_text(f"new {index}\n")
    sh(*LLMPIPE, "add", "-q", "data", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "two", cwd=root)


def best(command: tuple[str, ...], cwd: Path, repeat: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        out = sh(*command, cwd=cwd)
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        root = Path(tmp)
        build(root, args.files)
        diff = ("diff", "HEAD~1", "HEAD", "--json")
        ours, our_json = best((*LLMPIPE, *diff), root, args.repeat)
        theirs, their_json = best(("dvc", *diff), root, args.repeat)
    assert json.loads(our_json) == json.loads(their_json), "llmpipe and dvc disagree"
    changes = {k: len(v) for k, v in json.loads(our_json).items()}
    met = "yes" if theirs / ours >= 5 else "**no**"
    print(
        f"| `diff HEAD~1 HEAD` of {args.files} files ({changes}) | {ours:.3f} | "
        f"{theirs:.3f} | {theirs / ours:.1f}x | 5x | {met} |"
    )


if __name__ == "__main__":
    main()
