"""`get` of a 1,000-file dataset from a local registry, and `api.open` of a large file.

    python benchmarks/bench_registry.py [--files 1000] [--mb 100]

Prints seconds and ratios: `dvc get` / `llmpipe get` (goal >= 2), and
`llmpipe.api.open` read / reading the cached object directly (goal <= 1.2).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import default_command

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
       "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip


def sh(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, env=ENV, capture_output=True)


def timed(*args: str, cwd: Path) -> tuple[float, float]:
    """(wall, CPU) of one command: CPU is user + system of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    sh(*args, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


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


def _best_gets(reg: Path, work: Path, rounds: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) of each tool's `get` of data/ds, the tools alternating."""
    tools = {"dvc": default_command("dvc"), "llmpipe": default_command("llmpipe")}
    best: dict[str, tuple[float, float]] = {}
    for round_ in range(rounds):
        for name, command in tools.items():
            out = f"by_{name}_{round_}"
            wall, cpu = timed(*command, "get", str(reg), "data/ds", "-o", out, cwd=work)
            shutil.rmtree(work / out)
            seen = best.get(name, (wall, cpu))
            best[name] = (min(seen[0], wall), min(seen[1], cpu))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--rounds-get", type=int, default=3, help="alternating get pairs")
    parser.add_argument("--rounds", type=int, default=15, help="api.open/direct read pairs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        reg = make_registry(base, options.files, options.mb)
        (base / "w").mkdir()
        best = _best_gets(reg, base / "w", options.rounds_get)
        (dvc_wall, dvc_cpu), (our_wall, our_cpu) = best["dvc"], best["llmpipe"]
        print(
            f"get {options.files} files (best of {options.rounds_get}): dvc {dvc_wall:.2f}s "
            f"wall / {dvc_cpu:.2f}s CPU, llmpipe {our_wall:.2f}s / {our_cpu:.2f}s: "
            f"x{dvc_wall / our_wall:.1f} wall, x{dvc_cpu / our_cpu:.1f} CPU"
        )
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
