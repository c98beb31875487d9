"""Time `llmpipe push/pull` against `dvc push/pull` on the same data and remote kind.

Two data sets, each its own project: N small files in one tracked directory, and
one large file. Remotes: a local folder (beside the projects, so on the same
filesystem), and an S3-compatible server on loopback (moto or s3rver; see S3Server). In every
round each tool pushes to its own fresh location; for pull, the cache and the
workspace copy are deleted first. Deletions are flushed (sync) before each timed
command, the tools alternate, and the best of `--repeat` rounds is kept.

    python benchmarks/bench_remote.py [--small 10000] [--large-mb 2048]
        [--backends local,moto,s3rver] [--base DIR] [--output benchmarks/RESULTS.md]
        [--setups same-fs,fresh-clone] [--remote-base DIR] [--verify-off]
        [--cache-type hardlink]

`--base` picks the filesystem under test (default: the system's temporary
folder); `--base /dev/shm` times the tools' own work without a disk's noise.

Two set-ups for the folder remote (`--setups`):

* `same-fs`: the remote beside the project, pull into the same project after its
  cache and data were deleted. On one filesystem llmpipe hard-links read-only
  objects between the cache and the remote (after checking their hash), so push
  and pull move no bytes;
* `fresh-clone`: the remote on `--remote-base` (default /dev/shm, another
  filesystem than a disk `--base`), push from the project, pull into a fresh
  `git clone` of it (no cache, no data, no state): every byte is copied.

`--verify-off` and `--cache-type hardlink` together give both tools the work of
one `cp -a` for a pull (no verifying read, no second copy into the workspace): the
floor of a pull, where the default settings add the two.

Each folder-remote row also shows `cp -a` of the same bytes in the same direction
(the cache's files to the remote's filesystem for push, the remote's files to the
project's filesystem for pull): the physical copy the tools are judged against.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import command_output, default_command, filesystem, read_first

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
}
TARGETS = {"push": 2.0, "pull": 4.0}


def run(cwd: Path, *cmd: str) -> float:
    return timed(cwd, *cmd)[0]


def timed(cwd: Path, *cmd: str) -> tuple[float, float]:
    """Wall-clock seconds, and the CPU seconds (user + system) the command itself used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def tool(name: str) -> list[str]:
    return [sys.executable, "-m", "llmpipe"] if name == "llmpipe" else default_command("dvc")


def make_project(base: Path, name: str, small: int, large_mb: int) -> Path:
    """A git repository with `data/` tracked by `llmpipe add` (dvc reads the same .dvc file)."""
    proj = base / name
    data = proj / "data"
    data.mkdir(parents=True)
    for i in range(small):
        (data / f"f{i:05}.txt").write_text(f"small file {i}\n" * 4)
    if large_mb:
        block = os.urandom(1 << 20)
        with open(data / "large.bin", "wb") as handle:
            for i in range(large_mb):
                handle.write(block[:-8] + i.to_bytes(8, "little"))
    run(proj, "git", "init", "-q")
    run(proj, *tool("llmpipe"), "init")
    run(proj, *tool("llmpipe"), "add", "data")
    run(proj, "git", "add", "-A")
    run(proj, "git", "commit", "-q", "-m", "data")  # for the fresh-clone set-up
    return proj


def forget(proj: Path) -> None:
    shutil.rmtree(proj / ".dvc" / "cache", ignore_errors=True)
    shutil.rmtree(proj / ".dvc" / "tmp", ignore_errors=True)
    shutil.rmtree(proj / "data", ignore_errors=True)


def settle() -> None:
    """Flush deletions before timing: ext4 with `discard` bills them to the next command."""
    os.sync()
    time.sleep(1.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    for _ in range(600):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"bench_remote.py: no S3 server on port {port}")


class S3Server:
    """An S3-compatible server on loopback with a bucket `bench`.

    `moto`: moto's server (the one the tests use), Python, about 2 ms of CPU per
    request. `s3rver`: the npm package s3rver (Node.js, installed under
    benchmarks/work/ on first use), about 0.5 ms per request. Both tools share the
    machine's two cores with the server, so the server's cost per request bounds
    what either tool can reach.
    """

    def __init__(self, kind: str, base: Path) -> None:
        self.kind = kind
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        if kind == "moto":
            self.keys = ("k", "s")
            argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
            env = ENV
        else:
            self.keys = ("S3RVER", "S3RVER")  # s3rver's fixed credentials
            data = base / "s3rver-data"
            data.mkdir()
            argv = [str(s3rver_command()), "-d", str(data), "-a", "127.0.0.1", "-p", str(port)]
            argv += ["-s", "--configure-bucket", "bench"]
            # s3rver's continuation tokens use a cipher OpenSSL 3 keeps in its legacy provider.
            env = {**ENV, "NODE_OPTIONS": "--openssl-legacy-provider"}
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(port)
        import boto3

        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.keys[0],
            aws_secret_access_key=self.keys[1],
        )
        if kind == "moto":
            self.client.create_bucket(Bucket="bench")

    def delete_prefix(self, prefix: str) -> None:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket="bench", Prefix=prefix + "/"
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            for start in range(0, len(keys), 1000):
                self.client.delete_objects(
                    Bucket="bench", Delete={"Objects": keys[start : start + 1000]}
                )

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def s3rver_command() -> Path:
    prefix = ROOT / "benchmarks" / "work" / "s3rver"
    command = prefix / "node_modules" / ".bin" / "s3rver"
    if not command.exists():
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(prefix), "s3rver@3.7.1"], check=True
        )
    return command


def add_remote(proj: Path, name: str, url: str, server: S3Server | None, verify_off: bool) -> None:
    llmpipe = tool("llmpipe")
    run(proj, *llmpipe, "remote", "add", "-f", name, url)
    if verify_off:  # DVC's key, in .dvc/config: false is dvc's default already
        run(proj, *llmpipe, "remote", "modify", name, "verify", "false")
    if server is not None:
        key_id, secret = server.keys
        run(proj, *llmpipe, "remote", "modify", name, "endpointurl", server.endpoint)
        run(proj, *llmpipe, "remote", "modify", "--local", name, "access_key_id", key_id)
        run(proj, *llmpipe, "remote", "modify", "--local", name, "secret_access_key", secret)


def bench_remote(
    proj: Path, base: Path, kind: str, server: S3Server | None, args: argparse.Namespace
) -> dict:
    """Best times of push and pull for each tool over `repeat` rounds."""
    backup = base / f"{proj.name}-cache-backup"
    shutil.copytree(proj / ".dvc" / "cache", backup, dirs_exist_ok=True)
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_no in range(args.repeat):
        for name in ("dvc", "llmpipe") if round_no % 2 == 0 else ("llmpipe", "dvc"):
            remote = f"{name}-{kind}-{round_no}"
            stamp = f"{proj.name}-{kind}-{name}-{time.time_ns()}"
            url = str(base / "remotes" / stamp) if kind == "local" else f"s3://bench/{stamp}"
            add_remote(proj, remote, url, server, args.verify_off)
            settle()
            times.setdefault(("push", name), []).append(
                timed(proj, *tool(name), "push", "-q", "-r", remote)
            )
            forget(proj)
            settle()
            times.setdefault(("pull", name), []).append(
                timed(proj, *tool(name), "pull", "-q", "-r", remote)
            )
            shutil.rmtree(proj / ".dvc" / "cache")
            shutil.copytree(backup, proj / ".dvc" / "cache")
            if server is None and name == "llmpipe":  # the physical copy, both ways
                times.setdefault(("push", "cp -a"), []).append(
                    cp_a(proj / ".dvc" / "cache", base / "cp-reference")
                )
                times.setdefault(("pull", "cp -a"), []).append(
                    cp_a(base / "remotes" / stamp, base / "cp-reference")
                )
            if server is None:
                shutil.rmtree(base / "remotes" / stamp)
            else:
                server.delete_prefix(stamp)  # the servers keep objects in memory or on base
    # Best wall time and best CPU time, each over the rounds.
    return {
        key: (min(wall for wall, _ in values), min(cpu for _, cpu in values))
        for key, values in times.items()
    }


def cp_a(src: Path, dst: Path) -> tuple[float, float]:
    """`cp -a` of `src` to the new `dst` (flushed before, removed after)."""
    settle()
    result = timed(dst.parent, "cp", "-a", str(src), str(dst))
    shutil.rmtree(dst)
    return result


def bench_fresh_clone(proj: Path, base: Path, remote_base: Path, args: argparse.Namespace) -> dict:
    """Push to a folder on `remote_base`; pull into a fresh clone: best over rounds.

    Also `cp -a` of the same bytes: the cache to the remote's filesystem, and the
    remote's objects back to the project's filesystem.
    """
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_no in range(args.repeat):
        for name in ("dvc", "llmpipe") if round_no % 2 == 0 else ("llmpipe", "dvc"):
            remote_dir = remote_base / f"{proj.name}-{name}-{time.time_ns()}"
            add_remote(proj, "fresh", str(remote_dir), None, args.verify_off)
            settle()
            times.setdefault(("push", name), []).append(
                timed(proj, *tool(name), "push", "-q", "-r", "fresh")
            )
            clone = base / f"clone-{name}-{round_no}"
            run(base, "git", "clone", "-q", str(proj), str(clone))
            add_remote(clone, "fresh", str(remote_dir), None, args.verify_off)
            if args.cache_type:  # how the pull lays files into the clone's workspace
                run(clone, *tool("llmpipe"), "config", "cache.type", args.cache_type)
            settle()
            times.setdefault(("pull", name), []).append(
                timed(clone, *tool(name), "pull", "-q", "-r", "fresh")
            )
            shutil.rmtree(clone)
            if name == "llmpipe":
                times.setdefault(("push", "cp -a"), []).append(
                    cp_a(proj / ".dvc" / "cache", remote_base / "cp-reference")
                )
                times.setdefault(("pull", "cp -a"), []).append(
                    cp_a(remote_dir, base / "cp-reference")
                )
            shutil.rmtree(remote_dir)
    return {key: (min(w for w, _ in v), min(c for _, c in v)) for key, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10000, help="number of small files")
    parser.add_argument("--large-mb", type=int, default=2048, help="large file size (MiB)")
    parser.add_argument(
        "--backends", default="local,moto", help="comma-separated: local, moto, s3rver"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument("--base", default=tempfile.gettempdir(), help="where everything lives")
    parser.add_argument("--output", help="also append the report to this file")
    parser.add_argument(
        "--setups",
        default="same-fs,fresh-clone",
        help="folder-remote set-ups: same-fs, fresh-clone (see the module doc)",
    )
    parser.add_argument(
        "--remote-base", default="/dev/shm", help="the fresh-clone set-up's remote filesystem"
    )
    parser.add_argument(
        "--verify-off",
        action="store_true",
        help="set 'verify false' on the remotes: llmpipe then trusts downloads as dvc "
        "does by default (same work for both tools)",
    )
    parser.add_argument(
        "--cache-type",
        help="the fresh clone's `cache.type` for both tools (e.g. hardlink: a pull writes "
        "each file once, into the cache; the default copies it again into the workspace)",
    )
    args = parser.parse_args()
    # Both tools start from compiled bytecode, as a pip install leaves them.
    run(ROOT, sys.executable, "-m", "compileall", "-q", "llmpipe")
    base = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=args.base))
    sets = [(f"{args.small:,} small files", "small", args.small, 0)]
    if args.large_mb:
        sets.append((f"one {args.large_mb:,} MiB file", "large", 0, args.large_mb))
    rows = []
    try:
        for kind in args.backends.split(","):
            server = None if kind == "local" else S3Server(kind, base)
            try:
                for label, name, small, large_mb in sets:
                    proj = make_project(base, name, small, large_mb)
                    rows += setup_rows(proj, base, kind, server, args, label)
                    shutil.rmtree(proj)
                    # Only the same-fs set-up makes this backup.
                    shutil.rmtree(base / f"{name}-cache-backup", ignore_errors=True)
            finally:
                if server is not None:
                    server.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report = render(rows, args, filesystem(Path(args.base)))
    print(report)
    if args.output:
        with open(args.output, "a", encoding="utf-8") as handle:
            handle.write("\n" + report)


def setup_rows(
    proj: Path, base: Path, kind: str, server: S3Server | None, args: argparse.Namespace, label: str
) -> list[tuple]:
    """Report rows of one data set on one backend, for each chosen set-up."""
    rows = []
    setups = args.setups.split(",") if kind == "local" else ["same-fs"]
    for setup in setups:
        if setup == "same-fs":
            best = bench_remote(proj, base, kind, server, args)
            where = kind if kind != "local" else "local, same filesystem"
        else:
            remote_base = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=args.remote_base))
            try:
                best = bench_fresh_clone(proj, base, remote_base, args)
            finally:
                shutil.rmtree(remote_base, ignore_errors=True)
            where = f"local on {filesystem(Path(args.remote_base))}, fresh clone"
        rows += [
            (
                f"{op} {label}, {where}",
                best[op, "dvc"],
                best[op, "llmpipe"],
                op,
                best.get((op, "cp -a")),
            )
            for op in ("push", "pull")
        ]
    return rows


def render(rows: list[tuple], args: argparse.Namespace, storage: str) -> str:
    commit = command_output(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    lines = [
        "## Remote transfers, run of " + time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "",
        f"Command: `python benchmarks/bench_remote.py {' '.join(sys.argv[1:])}`",
        "",
        f"Best of {args.repeat} rounds; ratio = dvc / llmpipe. "
        + (
            "Remotes set `verify false`: neither tool checks downloads (dvc's default). "
            if args.verify_off
            else "llmpipe checks every download against its hash; dvc does not (its default). "
        )
        + (f"The fresh clones set `cache.type {args.cache_type}`. " if args.cache_type else "")
        + "Wall-clock seconds, and the "
        "CPU seconds (user + system) of the tool's own process, which is what a client costs "
        "when the server is not the bottleneck. "
        f"Projects and folder remotes on {storage}; S3 servers on loopback, sharing the "
        "cores (see the script). "
        f"Machine: {read_first('/proc/cpuinfo', 'model name')}, {os.cpu_count()} cores; "
        f"dvc {command_output(['dvc', '--version'])}; "
        f"llmpipe at {commit}.",
        "",
        "| operation | llmpipe (s) | dvc (s) | ratio | target | met "
        "| llmpipe CPU (s) | dvc CPU (s) | CPU ratio | `cp -a` (s) | llmpipe / `cp -a` |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, (dvc_wall, dvc_cpu), (llm_wall, llm_cpu), op, copy in rows:
        versus_copy = (
            "| - | - |" if copy is None else f"| {copy[0]:.2f} | {llm_wall / copy[0]:.2f}x |"
        )
        ratio = dvc_wall / llm_wall
        met = "yes" if ratio >= TARGETS[op] else "**no**"
        target = f"{TARGETS[op]:g}x"
        lines.append(
            f"| {name} | {llm_wall:.2f} | {dvc_wall:.2f} | {ratio:.1f}x | {target} | {met} "
            f"| {llm_cpu:.2f} | {dvc_cpu:.2f} | {dvc_cpu / max(llm_cpu, 1e-9):.1f}x " + versus_copy
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
