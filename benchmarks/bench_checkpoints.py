"""Checkpoint streaming: what it costs training, and how fast a checkpoint reaches the remote.

    python benchmarks/bench_checkpoints.py [--steps 200] [--interval 10] [--repeat 3]
        [--mb 1024] [--backends folder,moto]

1. Training slowdown, streaming on vs off: the reference pipeline's `train` (the default
   model, checkpoints every `--interval` steps) runs under `llmpipe repro train` with a
   folder remote (on) and without a remote (off), rounds interleaved. Training time is
   the time between train's first and last line of output, read as they arrive (what
   the training process itself took, without llmpipe's start-up and wrap-up). On a
   shared machine that wall-clock follows the load, so the CPU time is split too: the
   training process's own (GNU time wraps the bench's copy of the command) and
   llmpipe's (`getrusage` of the children minus training's), and the time training
   spent writing its checkpoints. Needs the `llm` extra (torch) and /usr/bin/time.
2. Checkpoint complete -> on the remote: one checkpoint of `--mb` MB is renamed into
   place while the real watcher runs (polling, hashing into the cache, pushing); the
   time from the rename until the push returned, split into hashing (snapshot) and
   upload, against a raw copy of the same bytes to the same place (`shutil.copyfile`
   into a folder, boto3's `upload_file` to the S3 server). S3 is moto's server
   (`bench_remote.S3Server`).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIME = "/usr/bin/time"


def cli(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "llmpipe", *args],
        cwd=cwd,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


# ---------------------------------------------------------------- training slowdown


def reference_repo(base: Path, steps: int, interval: int) -> Path:
    """The reference pipeline with frequent checkpoints, `prepare` already run."""
    path = base / "template"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    shutil.copytree(ROOT / "pipelines", path / "pipelines")
    # GNU time reports the training process's own CPU time (the bench's copy only).
    text = (ROOT / "dvc.yaml").read_text()
    timed = f"cmd: {TIME} -o ../train-time.txt -f '%U %S' python -m pipelines.llm.train"
    (path / "dvc.yaml").write_text(text.replace("cmd: python -m pipelines.llm.train", timed))
    params = {
        group: yaml.safe_load((ROOT / "conf" / group / "tiny.yaml").read_text())
        for group in ("data", "evaluate")
    }
    params["model"] = yaml.safe_load((ROOT / "params.yaml").read_text())["model"]  # default
    train = yaml.safe_load((ROOT / "conf" / "train" / "tiny.yaml").read_text())
    train.update(
        max_steps=steps,
        checkpoint_interval=interval,
        eval_interval=interval,
        log_interval=steps,
        batch_size=8,
        threads=1,
    )
    params["train"] = train
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    cli(path, "init")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "bench"], cwd=path, check=True)
    cli(path, "repro", "prepare")
    return path


def train_once(template: Path, where: Path, remote: Path | None) -> tuple[float, ...]:
    """(training seconds, CPU seconds of llmpipe and training, checkpoints seen, seconds
    spent writing checkpoints: from each `val_loss` line to its `checkpoint` line, CPU
    seconds of the training process alone)."""
    shutil.copytree(template, where, symlinks=True)
    if remote is not None:
        cli(where, "remote", "add", "-d", "store", str(remote))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "repro", "train"],
        cwd=where,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = last = None
    checkpoints, saving = 0, 0.0
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("train:"):
            now = time.perf_counter()
            if line.startswith("train: checkpoint"):
                checkpoints += 1
                saving += now - (last or now)
            first, last = first or now, now
    if process.wait() != 0 or first is None or last is None:
        raise SystemExit(f"bench_checkpoints.py: repro train failed in {where}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    user, system = (where.parent / "train-time.txt").read_text().split()[-2:]
    return last - first, cpu, checkpoints, saving, float(user) + float(system)


def training_slowdown(base: Path, args: argparse.Namespace) -> dict[str, float]:
    template = reference_repo(base, args.steps, args.interval)
    times: dict[str, list[tuple[float, ...]]] = {"off": [], "on": []}
    for round_no in range(args.repeat):
        for mode in ("off", "on") if round_no % 2 == 0 else ("on", "off"):
            remote = base / f"remote-{round_no}" if mode == "on" else None
            times[mode].append(train_once(template, base / f"{mode}-{round_no}", remote))
    found: dict[str, float] = {"checkpoints": times["on"][0][2]}
    for mode, runs in times.items():
        found[mode] = min(t[0] for t in runs)
        found[f"saving_{mode}"] = min(t[3] for t in runs)
        found[f"train_cpu_{mode}"] = min(t[4] for t in runs)
        found[f"llmpipe_cpu_{mode}"] = min(t[1] - t[4] for t in runs)
    return found


# ---------------------------------------------------------------- time to the remote


def write_checkpoint(root: Path, mb: int) -> Path:
    """A complete checkpoint folder of `mb` MB, written hidden (not yet renamed)."""
    staging = root / ".step-000001.tmp"
    staging.mkdir(parents=True)
    with open(staging / "w.bin", "wb") as handle:
        for _ in range(mb):
            handle.write(os.urandom(2**20))
        os.fsync(handle.fileno())
    return staging


def streamed(base: Path, mb: int, url: str, options: dict[str, str]) -> tuple[float, float]:
    """(rename -> pushed through the real watcher, of which hashing) in seconds."""
    from llmpipe.ckpt.objects import push_tree
    from llmpipe.ckpt.snapshot import take_snapshot
    from llmpipe.ckpt.stream import Watcher
    from llmpipe.project import Project
    from llmpipe.remote.ops import open_layout

    path = base / "project"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    cli(path, "init")
    cli(path, "remote", "add", "-d", "store", url)
    for key, value in options.items():
        cli(path, "remote", "modify", "--local", "store", key, value)
    ckpts = path / "ckpts"
    staging = write_checkpoint(ckpts, mb)
    done, hashing = threading.Event(), [0.0]
    with Project(str(path)) as proj:
        remote = proj.config.remote()
        layout = open_layout(proj, remote, create=True)

        def push(snapshot: object) -> None:
            push_tree(proj.odb, layout, remote, snapshot.info, str(base / "scratch"), set())
            done.set()

        def timed_snapshot(*args: object) -> object:
            started = time.perf_counter()
            try:
                return take_snapshot(*args)
            finally:
                hashing[0] += time.perf_counter() - started

        watcher = Watcher(str(ckpts), proj.odb, proj.state, push)
        import llmpipe.ckpt.stream as stream

        original, stream.take_snapshot = stream.take_snapshot, timed_snapshot
        try:
            watcher.start()
            start = time.perf_counter()
            os.replace(staging, ckpts / "step-000001")
            done.wait()
            elapsed = time.perf_counter() - start
            watcher.stop()
        finally:
            stream.take_snapshot = original
            layout.backend.close()
    if watcher.errors:
        raise SystemExit(f"bench_checkpoints.py: the push failed: {watcher.errors}")
    return elapsed, hashing[0]


def raw_copy(source: Path, destination: Path) -> float:
    start = time.perf_counter()
    shutil.copyfile(source, destination)
    return time.perf_counter() - start


def time_to_remote(base: Path, args: argparse.Namespace) -> dict[str, tuple[float, float, float]]:
    """{backend: (complete -> on the remote, of which hashing, raw copy)}, best of repeats."""
    found: dict[str, tuple[float, float, float]] = {}
    for backend in args.backends.split(","):
        server = None
        if backend == "moto":
            from bench_remote import S3Server

            server = S3Server("moto", base)
        try:
            rounds = []
            for round_no in range(args.repeat):
                where = base / f"{backend}-{round_no}"
                where.mkdir()
                if server is None:
                    url, options = str(where / "remote"), {}
                else:
                    url = f"s3://bench/ckpt-{round_no}"
                    options = {
                        "endpointurl": server.endpoint,
                        "access_key_id": server.keys[0],
                        "secret_access_key": server.keys[1],
                    }
                elapsed, hashing = streamed(where, args.mb, url, options)
                data = where / "project" / "ckpts" / "step-000001" / "w.bin"
                if server is None:
                    raw = raw_copy(data, where / "raw-copy.bin")
                else:
                    start = time.perf_counter()
                    server.client.upload_file(str(data), "bench", f"raw-{round_no}")
                    raw = time.perf_counter() - start
                rounds.append((elapsed, hashing, raw))
                shutil.rmtree(where)
            found[backend] = (
                min(r[0] for r in rounds),
                min(r[1] for r in rounds),
                min(r[2] for r in rounds),
            )
        finally:
            if server is not None:
                server.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--interval", type=int, default=10)
    parser.add_argument("--mb", type=int, default=1024, help="size of the big checkpoint")
    parser.add_argument("--backends", default="folder,moto")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        base = Path(tmp)
        if not args.skip_training:
            (base / "train").mkdir()
            slow = training_slowdown(base / "train", args)
            print(
                f"reference train, {args.steps} steps, {slow['checkpoints']:.0f} checkpoints, "
                f"streaming off / on (best of {args.repeat}):\n"
                f"  training wall-clock {slow['off']:.2f} / {slow['on']:.2f} s "
                f"({100 * (slow['on'] / slow['off'] - 1):+.1f}%)\n"
                f"  training CPU {slow['train_cpu_off']:.2f} / {slow['train_cpu_on']:.2f} s "
                f"({100 * (slow['train_cpu_on'] / slow['train_cpu_off'] - 1):+.1f}%)\n"
                f"  writing checkpoints (training) {slow['saving_off']:.2f} / "
                f"{slow['saving_on']:.2f} s\n"
                f"  llmpipe CPU (its process: start-up, watcher, hashing, pushing) "
                f"{slow['llmpipe_cpu_off']:.2f} / {slow['llmpipe_cpu_on']:.2f} s"
            )
        (base / "push").mkdir()
        for backend, (elapsed, hashing, raw) in time_to_remote(base / "push", args).items():
            print(
                f"{args.mb} MB checkpoint complete -> on {backend} remote: {elapsed:.2f} s "
                f"(hashing {hashing:.2f} s); raw copy {raw:.2f} s; ratio {elapsed / raw:.2f}x"
            )


if __name__ == "__main__":
    main()
