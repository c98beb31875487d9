"""A real local Ray cluster for the tests: a head with no CPUs and worker nodes of one
CPU each, on loopback, each worker node with its own scratch folder, cwd and TMPDIR.

Nodes use 127.0.0.2: Ray replaces 127.0.0.1 with the machine's outward address, and
the tests must only talk to loopback. Object stores are kept small (shared machine).

Every node runs `ray start --block` in a process group of its own, so the teardown
ends exactly the processes this fixture started (never `ray stop`, which would end
every Ray cluster on the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT

RAY = shutil.which("ray")
HOST = "127.0.0.2"
_SMALL = ["--object-store-memory=80000000", f"--node-ip-address={HOST}"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class RayCluster:
    address: str
    base: Path
    nodes: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The driver's environment: where the cluster is."""
        return {"RAY_ADDRESS": self.address}

    def add_worker(self, name: str, cpus: int = 1) -> subprocess.Popen:
        scratch = self.base / name
        (scratch / "tmp").mkdir(parents=True, exist_ok=True)
        env = {
            **_node_env(),
            "LLMPIPE_WORKER_DIR": str(scratch),
            "LLMPIPE_WORKER_NAME": name,
            "TMPDIR": str(scratch / "tmp"),
        }
        node = _start(
            [f"--address={self.address}", f"--num-cpus={cpus}", *_SMALL],
            env,
            scratch,
        )
        self.nodes.append(node)
        return node

    def wait_for_cpus(self, cpus: int, timeout: float = 150) -> None:
        deadline = time.monotonic() + timeout
        probe = (
            "import ray; ray.init(logging_level='ERROR');"
            "print(int(ray.cluster_resources().get('CPU', 0)))"
        )
        while time.monotonic() < deadline:
            done = subprocess.run(
                ["python", "-c", probe],
                capture_output=True,
                text=True,
                env={**_node_env(), **self.env()},
                check=False,
            )
            if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(cpus)]:
                return
            time.sleep(1)
        raise RuntimeError(f"the Ray cluster did not reach {cpus} CPUs: {done.stderr[-2000:]}")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            stop_node(node)


def stop_node(node: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, sig)
    try:
        node.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)
        node.wait()


def _wait_for_port(host: str, port: int, timeout: float = 60) -> None:
    """Until the head's GCS answers: worker nodes started before it give up at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            time.sleep(1)  # listening is not quite serving yet
            return
        time.sleep(0.5)
    raise RuntimeError(f"the Ray head did not start listening on {host}:{port}")


# The nodes' home: a `~/.ray/auth_token` that another Ray user left on the machine makes
# Ray nodes check tokens the tests' clients never send.
_HOME = tempfile.mkdtemp(prefix="ray-test-home-")


def _node_env() -> dict[str, str]:
    return {
        **os.environ,
        "HOME": _HOME,
        "PYTHONPATH": str(ROOT),  # workers import this checkout's llmpipe
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_DISABLE_DOCKER_CPU_WARNING": "1",
        "RAY_raylet_start_wait_time_s": "120",  # a shared, busy machine starts slowly
    }


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    with (cwd / "ray-start.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [RAY, "start", "--block", "--disable-usage-stats", *args],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def ray_cluster(base: Path, workers: int = 2) -> Iterator[RayCluster]:
    """A head (0 CPUs: tasks only run on workers) and `workers` one-CPU worker nodes."""
    port = free_port()
    cluster = RayCluster(f"{HOST}:{port}", base)
    head_dir = base / "head"
    head_dir.mkdir(parents=True)
    cluster.nodes.append(
        _start(
            [
                "--head",
                f"--port={port}",
                "--num-cpus=0",
                *_SMALL,
                "--include-dashboard=false",
                f"--temp-dir={base / 'ray'}",
            ],
            _node_env(),
            head_dir,
        )
    )
    try:
        _wait_for_port(HOST, port)
        for index in range(workers):
            # One at a time: on a busy 2-core machine raylets starting together time out.
            cluster.add_worker(f"worker-{index}")
            cluster.wait_for_cpus(index + 1)
        yield cluster
    finally:
        cluster.stop()
