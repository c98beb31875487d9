"""Time `llmpipe push/pull` against `dvc push/pull` on the same data and remote.

Data: N small files in one tracked directory, and one large file. Remotes: a
local folder, and an S3 server (moto, in its own process on loopback). Each
tool pushes to its own fresh location of the same remote kind; for pull, the
cache and workspace are deleted first.

    python benchmarks/bench_remote.py [--small 10000] [--large-mb 2048] [--backends local,s3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **os.environ,
    "PYTHONPATH": str(ROOT),
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
}


def run(cwd: Path, *cmd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def llmpipe(cwd: Path, *args: str) -> float:
    return run(cwd, sys.executable, "-m", "llmpipe", *args)


def make_project(base: Path, small: int, large_mb: int) -> Path:
    proj = base / "proj"
    (proj / "data" / "small").mkdir(parents=True)
    for i in range(small):
        (proj / "data" / "small" / f"f{i:05}.txt").write_text(f"small file {i}\n" * 4)
    if large_mb:
        with open(proj / "data" / "large.bin", "wb") as handle:
            block = os.urandom(1 << 20)
            for i in range(large_mb):
                handle.write(block[:-8] + i.to_bytes(8, "little"))
    run(proj, "git", "init", "-q")
    llmpipe(proj, "init")
    targets = ["data/small"] + (["data/large.bin"] if large_mb else [])
    llmpipe(proj, "add", *targets)
    return proj


def forget(proj: Path) -> None:
    shutil.rmtree(proj / ".dvc" / "cache", ignore_errors=True)
    shutil.rmtree(proj / ".dvc" / "tmp", ignore_errors=True)
    shutil.rmtree(proj / "data" / "small", ignore_errors=True)
    with_large = proj / "data" / "large.bin"
    if with_large.exists():
        with_large.unlink()


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).create_bucket(Bucket="bench")
    return server, endpoint


def configure(proj: Path, name: str, url: str, endpoint: str | None) -> None:
    llmpipe(proj, "remote", "add", "-f", name, url)
    if endpoint:
        llmpipe(proj, "remote", "modify", name, "endpointurl", endpoint)
        llmpipe(proj, "remote", "modify", "--local", name, "access_key_id", "k")
        llmpipe(proj, "remote", "modify", "--local", name, "secret_access_key", "s")


def settle() -> None:
    """Flush deletions before timing: ext4 with `discard` bills them to the next command."""
    os.sync()
    time.sleep(1.0)


def bench_backend(
    proj: Path, base: Path, kind: str, endpoint: str | None, repeat: int
) -> list[tuple]:
    """Best of `repeat` rounds; each round pushes to fresh remotes, then pulls back."""
    backup = base / "cache-backup"
    shutil.copytree(proj / ".dvc" / "cache", backup, dirs_exist_ok=True)
    best = {"push dvc": [], "push llm": [], "pull dvc": [], "pull llm": []}
    for round_no in range(repeat):
        names = _configure_round(proj, base, kind, endpoint, round_no)
        settle()
        best["push dvc"].append(run(proj, "dvc", "push", "-q", "-r", names["dvc"]))
        settle()
        best["push llm"].append(llmpipe(proj, "push", "-q", "-r", names["llmpipe"]))
        forget(proj)
        settle()
        best["pull dvc"].append(run(proj, "dvc", "pull", "-q", "-r", names["dvc"]))
        forget(proj)
        settle()
        best["pull llm"].append(llmpipe(proj, "pull", "-q", "-r", names["llmpipe"]))
        shutil.copytree(backup, proj / ".dvc" / "cache", dirs_exist_ok=True)
    return [
        (f"push to {kind}", min(best["push dvc"]), min(best["push llm"]), 2.0),
        (f"pull from {kind}", min(best["pull dvc"]), min(best["pull llm"]), 4.0),
    ]


def _configure_round(
    proj: Path, base: Path, kind: str, endpoint: str | None, round_no: int
) -> dict[str, str]:
    stamp = f"{kind}{time.time_ns()}"
    names = {}
    for tool in ("dvc", "llmpipe"):
        url = str(base / f"{stamp}-{tool}") if kind == "local" else f"s3://bench/{stamp}-{tool}"
        names[tool] = f"{tool}-{kind}-{round_no}"
        configure(proj, names[tool], url, endpoint)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10000, help="number of small files")
    parser.add_argument("--large-mb", type=int, default=2048, help="size of the large file (MiB)")
    parser.add_argument("--backends", default="local,s3")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best is kept")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "remote.md"))
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    server = None
    try:
        proj = make_project(base, args.small, args.large_mb)
        rows = []
        for kind in args.backends.split(","):
            endpoint = None
            if kind == "s3":
                server, endpoint = start_moto()
            rows += bench_backend(proj, base, kind, endpoint, args.repeat)
    finally:
        if server is not None:
            server.terminate()
        shutil.rmtree(base, ignore_errors=True)
    report(rows, args)


def report(rows: list[tuple], args: argparse.Namespace) -> None:
    lines = [
        f"# Remote transfers vs dvc: {args.small} small files, one {args.large_mb} MiB file",
        "",
        "| operation | dvc (s) | llmpipe (s) | speed-up | target |",
        "|---|---|---|---|---|",
    ]
    for name, dvc_time, llm_time, target in rows:
        ratio = dvc_time / llm_time
        lines.append(
            f"| {name} | {dvc_time:.2f} | {llm_time:.2f} | {ratio:.1f}× | ≥{target:.0f}× |"
        )
        print(f"{name:20} dvc {dvc_time:7.2f}s  llmpipe {llm_time:7.2f}s  {ratio:5.1f}x")
    lines += [
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; S3 is a moto server on loopback. Best of "
        f"{args.repeat} rounds; deletions are flushed (sync) before each timed command.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
