# ruff: noqa: E501
"""Executor benchmarks on the tests' local Ray cluster (started and stopped here).

1. Dispatch overhead: N independent trivial stages (`echo i > out/i.txt`), `-j 2`, on
   `--executor ray` and `--executor local`, each on a fresh git copy with a folder
   remote. Per stage = the slope between a 1-stage and an N-stage run, so Ray's
   one-off start (joining the cluster, the first worker's imports) is not counted
   per stage; the raw (ray - local) / N is printed too.
2. Data moved: the fan-out pipeline (prepare → 4 featurize → train → evaluate) on
   Ray with `LLMPIPE_CLUSTER_STATS`: per stage, its inputs and outputs against what
   its worker fetched and pushed, and objects fetched twice by one worker.
3. Scaling: the fan-out pipeline with each featurize doing WORK seconds of work
   (`--work-kind sleep`: waiting, as on a machine with cores to spare; `cpu`: a busy
   loop, which this 2-core machine caps), `-j 4`, with 1, 2 and 4 one-CPU workers.

    python benchmarks/bench_cluster.py [--stages 40] [--work 3] [--work-kind sleep] [--out FILE]
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
sys.path.insert(0, str(REPO))

from tests.cluster.pipelines import FANOUT  # noqa: E402
from tests.cluster.ray_cluster import ray_cluster  # noqa: E402

BUSY = "python -c \"import time; t = time.time() + {s}; exec('while time.time() < t: pass')\""


def trivial_stages(count: int) -> dict[str, str]:
    lines = ["stages:"]
    for i in range(count):
        lines += [
            f"  s{i}:",
            f"    cmd: mkdir -p out && echo {i} > out/{i}.txt",
            f"    outs: [out/{i}.txt]",
        ]
    return {"dvc.yaml": "\n".join(lines) + "\n"}


def fanout(work: float, kind: str, salt: str) -> dict[str, str]:
    """The tests' fan-out pipeline; `salt` makes its data and code objects its own, so a
    worker's cache holds nothing of it from an earlier run on the same cluster."""
    files = {
        path: _dedent(text) + (f"# {salt}\n" if path.endswith(".py") else "")
        for path, text in FANOUT.items()
    }
    if work:
        slow = f"sleep {work}" if kind == "sleep" else BUSY.format(s=work)
        files["dvc.yaml"] = files["dvc.yaml"].replace(
            "cmd: mkdir -p features", f"cmd: {slow} && mkdir -p features"
        )
    files["data/raw.txt"] = f"hello cluster {salt}\n" * 1000
    return files


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def make_project(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    env = _env()
    store = str(root.parent / f"{root.name}-store")
    for command in (
        ["git", "init", "-q"],
        [sys.executable, "-m", "llmpipe", "init"],
        [sys.executable, "-m", "llmpipe", "remote", "add", "-d", "store", store],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "bench"],
    ):
        subprocess.run(command, cwd=root, check=True, capture_output=True, env=env)


def timed_repro(root: Path, executor: str, extra_env: dict[str, str], jobs: int = 2) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "llmpipe", "repro", "-j", str(jobs), "--executor", executor, "-q"],
        cwd=root, capture_output=True, text=True, env={**_env(), **extra_env},
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.perf_counter() - start


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x.invalid",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x.invalid",
    }  # fmt: skip


def dispatch(base: Path, stages: int, env: dict[str, str]) -> list[str]:
    times = {}
    for executor in ("local", "ray"):
        for count in (1, stages):
            root = base / f"dispatch-{executor}-{count}"
            make_project(root, trivial_stages(count))
            times[executor, count] = timed_repro(root, executor, env if executor == "ray" else {})
    slope = {e: (times[e, stages] - times[e, 1]) / (stages - 1) for e in ("local", "ray")}
    raw = (times["ray", stages] - times["local", stages]) / stages
    return [
        f"## Dispatch: {stages} trivial stages, -j 2, 2 one-CPU Ray workers",
        "",
        "| executor | 1 stage s | N stages s | per stage ms (slope) |",
        "|---|---|---|---|",
        *(
            f"| {e} | {times[e, 1]:.2f} | {times[e, stages]:.2f} | {1000 * slope[e]:.0f} |"
            for e in ("local", "ray")
        ),
        "",
        f"dispatch overhead per stage (slope, ray - local): {1000 * (slope['ray'] - slope['local']):.0f} ms (goal < 150 ms);"
        f" raw (ray - local) / N, Ray's start included: {1000 * raw:.0f} ms",
    ]


def data_moved(base: Path, env: dict[str, str]) -> list[str]:
    root = base / "moved"
    make_project(root, fanout(0, "sleep", "moved"))
    stats = base / "stats.json"
    timed_repro(root, "ray", {**env, "LLMPIPE_CLUSTER_STATS": str(stats)})
    rows = json.loads(stats.read_text())["stages"]
    lines = [
        "## Data moved per stage: the fan-out pipeline on 2 Ray workers",
        "",
        "| stage | node | inputs B | outputs B | worker fetched B | worker pushed B | refetched objects |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['stage']} | {row['node']} | {row['inputs_bytes']} | {row['outs_bytes']} |"
            f" {row['worker_fetched']} | {row['worker_pushed']} | {row['refetched']} |"
        )
    fetched = sum(r["worker_fetched"] for r in rows)
    inputs = sum(r["inputs_bytes"] for r in rows)
    lines += [
        "",
        f"fetched by workers / inputs of the stages: {fetched}/{inputs} = {fetched / inputs:.2f};"
        f" objects fetched twice by one worker: {sum(r['refetched'] for r in rows)}",
    ]
    return lines


def grow(cluster, workers: int) -> None:  # noqa: ANN001
    while len(cluster.nodes) - 1 < workers:
        cluster.add_worker(f"worker-{len(cluster.nodes) - 1}")
        cluster.wait_for_cpus(len(cluster.nodes) - 1)


class Scaling:
    """The fan-out pipeline with slow featurize stages, once per worker count."""

    def __init__(self, base: Path, work: float, kind: str) -> None:
        self.base, self.work, self.kind = base, work, kind
        self.rows: list[str] = []
        self.chain: float | None = None  # everything but the 4 featurize works

    def run(self, cluster, workers: int) -> None:  # noqa: ANN001
        grow(cluster, workers)
        root = self.base / f"scale-{workers}"
        make_project(root, fanout(self.work, self.kind, f"scale-{workers}"))
        wall = timed_repro(root, "ray", cluster.env(), jobs=4)
        if self.chain is None:
            self.chain = wall - 4 * self.work
        ideal = self.chain + self.work * -(-4 // workers)
        self.rows.append(f"| {workers} | {wall:.2f} | {ideal:.2f} |")

    def report(self) -> list[str]:
        return [
            f"## Scaling: the fan-out pipeline, each featurize {self.work:g} s of `{self.kind}` work, -j 4",
            "",
            "| workers | wall s | ideal s (1-worker run's chain + featurize over N workers) |",
            "|---|---|---|",
            *self.rows,
        ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stages", type=int, default=40)
    parser.add_argument("--work", type=float, default=3.0)
    parser.add_argument("--work-kind", choices=("sleep", "cpu"), default="sleep")
    parser.add_argument("--skip", nargs="*", default=(), choices=("dispatch", "moved", "scaling"))
    parser.add_argument("--out")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    report = [
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start",
        "",
    ]
    scale = Scaling(base, args.work, args.work_kind)
    with ray_cluster(base / "cluster", workers=1) as cluster:
        if "scaling" not in args.skip:
            scale.run(cluster, 1)
        grow(cluster, 2)
        if "scaling" not in args.skip:
            scale.run(cluster, 2)
        if "dispatch" not in args.skip:
            report += dispatch(base, args.stages, cluster.env()) + [""]
        if "moved" not in args.skip:
            report += data_moved(base, cluster.env()) + [""]
        if "scaling" not in args.skip:
            scale.run(cluster, 4)
            report += scale.report()
    text = "\n".join(report)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
