"""A/B one llmpipe command between two checkouts, with `python -c pass` as the floor.

    python benchmarks/bench_ab.py --runs 25 /work/main . -- repro      # in a project

Runs `python -m llmpipe ARGS` in the current directory with each checkout on
PYTHONPATH, alternating with `python -c pass`, and prints the best wall and CPU
(user + system) of each and CPU as a multiple of the floor. On a shared machine
the CPU column is the steadier one; alternating keeps both sides under the same load.
The command must leave the project as it found it (a no-op `repro`, `status`), or
name a file with `--change FILE`: a line is then appended to it before every run, and
each checkout runs in its own copy of the project (made once, in a temporary folder),
so that each reads the dvc.lock it wrote itself:

    python benchmarks/bench_ab.py --runs 20 --change inputs/s050.txt /work/main . -- repro

`--touch FILE` sets the file's mtime to now before every run instead (same bytes), also
in each checkout's own copy, whose state DB the other checkout's format never rewrites:

    python benchmarks/bench_ab.py --runs 10 --touch data/big.bin /work/main . -- status
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


def once(argv: list[str], pythonpath: str, cwd: str | None = None) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": pythonpath, "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--change", help="append a line to this file before each run")
    parser.add_argument("--touch", help="set this file's mtime to now before each run")
    parser.add_argument("a", type=Path, help="first checkout (its llmpipe/ is imported)")
    parser.add_argument("b", type=Path, help="second checkout")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- llmpipe arguments")
    args = parser.parse_args()
    command = [a for a in args.args if a != "--"]
    sides = {
        str(args.a): ([sys.executable, "-m", "llmpipe", *command], str(args.a.resolve())),
        str(args.b): ([sys.executable, "-m", "llmpipe", *command], str(args.b.resolve())),
        "python -c pass": ([sys.executable, "-c", "pass"], ""),
    }
    best = {name: [float("inf"), float("inf")] for name in sides}
    copies = own_copies(list(sides)[:2]) if args.change or args.touch else {}
    for run in range(args.runs):
        for name, (argv, pythonpath) in sides.items():
            cwd = copies.get(name)
            if cwd is not None and args.change:
                with open(os.path.join(cwd, args.change), "a", encoding="utf-8") as handle:
                    handle.write(f"change {run}\n")
            if cwd is not None and args.touch:
                os.utime(os.path.join(cwd, args.touch))
            wall, cpu = once(argv, pythonpath, cwd)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    floor = best["python -c pass"][1]
    for name, (wall, cpu) in best.items():
        times = f"wall {wall * 1000:7.1f} ms  CPU {cpu * 1000:7.1f} ms"
        print(f"{name:30s} {times}  {cpu / floor:.2f}x")
    return 0


def own_copies(names: list[str]) -> dict[str, str]:
    """A copy of the current project for each checkout (removed at exit)."""
    import atexit

    top = tempfile.mkdtemp(prefix="bench-ab-")
    atexit.register(shutil.rmtree, top, True)
    copies = {}
    for number, name in enumerate(names):
        copies[name] = os.path.join(top, str(number))
        shutil.copytree(".", copies[name], symlinks=True)
    return copies


if __name__ == "__main__":
    sys.exit(main())
