"""A/B one llmpipe command between two checkouts, with `python -c pass` as the floor.

    python benchmarks/bench_ab.py --runs 25 /work/main . -- repro      # in a project

Runs `python -m llmpipe ARGS` in the current directory with each checkout on
PYTHONPATH, alternating with `python -c pass`, and prints the best wall and CPU
(user + system) of each and CPU as a multiple of the floor. On a shared machine
the CPU column is the steadier one; alternating keeps both sides under the same load.
The command must leave the project as it found it (a no-op `repro`, `status`).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def once(argv: list[str], pythonpath: str) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": pythonpath, "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
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
    for _ in range(args.runs):
        for name, (argv, pythonpath) in sides.items():
            wall, cpu = once(argv, pythonpath)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    floor = best["python -c pass"][1]
    for name, (wall, cpu) in best.items():
        times = f"wall {wall * 1000:7.1f} ms  CPU {cpu * 1000:7.1f} ms"
        print(f"{name:30s} {times}  {cpu / floor:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
