"""`get` of a 1,000-file dataset from a local registry, and `api.open` of a large file.

    python benchmarks/bench_registry.py [--files 1000] [--mb 100]

Prints seconds and ratios: `dvc get` / `llmpipe get` (goal >= 2), and
`llmpipe.api.open` read / reading the cached object directly (goal <= 1.2).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
       "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip


def sh(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, env=ENV, capture_output=True)


def timed(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    sh(*args, cwd=cwd)
    return time.perf_counter() - start


def make_registry(base: Path, files: int, mb: int) -> Path:
    reg = base / "registry"
    (reg / "data" / "ds").mkdir(parents=True)
    for i in range(files):
        (reg / "data" / "ds" / f"f{i:05}.txt").write_text(f"row {i}\n" * 20)
    with open(reg / "data" / "big.bin", "wb") as handle:
        handle.write(os.urandom(mb << 20))
    sh("git", "init", "-q", "-b", "main", cwd=reg)
    sh("dvc", "init", "-q", cwd=reg)
    sh("dvc", "add", "-q", "data/ds", "data/big.bin", cwd=reg)
    sh("git", "add", "-A", cwd=reg)
    sh("git", "commit", "-qm", "data", cwd=reg)
    return reg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15, help="api.open/direct read pairs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        reg = make_registry(base, options.files, options.mb)
        (base / "w").mkdir()
        dvc = timed("dvc", "get", str(reg), "data/ds", "-o", "by_dvc", cwd=base / "w")
        llmpipe = (sys.executable, "-m", "llmpipe")
        ours = timed(*llmpipe, "get", str(reg), "data/ds", "-o", "by_llmpipe", cwd=base / "w")
        print(f"get {options.files} files: dvc {dvc:.2f}s, llmpipe {ours:.2f}s, x{dvc / ours:.1f}")
        code = (
            "import glob, os, time, llmpipe.api as api\n"
            f"reg = {str(reg)!r}\n"
            "obj = max(glob.glob(reg + '/.dvc/cache/files/md5/*/*'), key=os.path.getsize)\n"
            "def through_api():\n"
            "    with api.open('data/big.bin', repo=reg, mode='rb') as f:\n"
            "        while f.read(1 << 20): pass\n"
            "def direct():\n"
            "    with open(obj, 'rb') as f:\n"
            "        while f.read(1 << 20): pass\n"
            "through_api(); direct()  # the first call imports llmpipe's modules\n"
            "times = {through_api: [], direct: []}\n"
            f"for _ in range({options.rounds}):  # alternating, so load hits both alike\n"
            "    for call, seen in times.items():\n"
            "        t = time.perf_counter(); call(); seen.append(time.perf_counter() - t)\n"
            "a, d = (min(seen) for seen in times.values())\n"
            "am, dm = (sorted(seen)[len(seen) // 2] for seen in times.values())\n"
            "print(f'api.open {a:.4f}s, direct {d:.4f}s, x{a / d:.2f} (best of each); '\n"
            "      f'medians {am:.4f}s / {dm:.4f}s, x{am / dm:.2f}')\n"
        )
        subprocess.run([sys.executable, "-c", code], cwd=base, env=ENV, check=True)


if __name__ == "__main__":
    main()
