"""Real remote servers on loopback: a moto S3 server and an OpenSSH server.

Each backend is wrapped in a `RemoteSite` that the conformance suite drives the
same way: the URL and options to configure, and direct access to the stored
objects (to corrupt or delete one) and to the server (to stop and start it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BUCKET = "llmpipe-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout}s")


@dataclass
class RemoteSite:
    """One backend under test."""

    kind: str
    url: str
    options: dict[str, str] = field(default_factory=dict)
    secret_options: dict[str, str] = field(default_factory=dict)
    read: Callable[[str], bytes] = lambda key: b""
    write: Callable[[str, bytes], None] = lambda key, data: None
    delete: Callable[[str], None] = lambda key: None
    listing: Callable[[], list[str]] = list
    stop: Callable[[], None] | None = None
    start: Callable[[], None] | None = None
    bad_credentials: dict[str, str] | None = None

    def objects(self) -> list[str]:
        """The listing without the audit trail that push also shares (llmpipe/audit/)."""
        return [key for key in self.listing() if not key.startswith("llmpipe/")]

    def configure(self, project, name: str = "store") -> None:  # noqa: ANN001
        project.ok("remote", "add", "-d", name, self.url)
        for key, value in self.options.items():
            project.ok("remote", "modify", name, key, value)
        for key, value in self.secret_options.items():
            project.ok("remote", "modify", "--local", name, key, value)


# ---------------------------------------------------------------- local


def local_site(root: Path) -> RemoteSite:
    def path(key: str) -> Path:
        return root / key

    return RemoteSite(
        kind="local",
        url=str(root),
        read=lambda key: path(key).read_bytes(),
        write=lambda key, data: path(key).write_bytes(data),
        delete=lambda key: path(key).unlink(),
        listing=lambda: sorted(
            p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
        ),
    )


# ---------------------------------------------------------------- S3 (moto)


class MotoS3:
    """A moto server with IAM auth on, one user with full access, and one bucket."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._cls = ThreadedMotoServer
        self.server = None
        self.start()
        self._connect()
        self.start_strict()

    def start(self) -> None:
        # moto keeps its state in this process, so a restarted server has the same objects.
        self.server = self._cls(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        self.server.stop()

    def _connect(self) -> None:
        import boto3

        self.key_id, self.secret = "llmpipe-key", "llmpipe-secret"
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
        )
        self.client.create_bucket(Bucket=BUCKET)

    def start_strict(self) -> None:
        """A second server, in its own process, that checks credentials (moto's IAM auth).

        Its signature check mishandles some listings, so only the refusal is tested there.
        """
        self.strict_port = free_port()
        self.strict = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.strict_port)],
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.strict_port, timeout=30)

    def close(self) -> None:
        self.stop()
        if getattr(self, "strict", None) is not None:
            self.strict.terminate()
            self.strict.wait(timeout=10)

    def site(self, prefix: str) -> RemoteSite:
        client = self.client

        def keys() -> list[str]:
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix=prefix + "/"
            )
            found = [o["Key"] for page in pages for o in page.get("Contents", [])]
            return sorted(k[len(prefix) + 1 :] for k in found)

        return RemoteSite(
            kind="s3",
            url=f"s3://{BUCKET}/{prefix}",
            options={"endpointurl": self.endpoint},
            secret_options={"access_key_id": self.key_id, "secret_access_key": self.secret},
            read=lambda key: client.get_object(Bucket=BUCKET, Key=f"{prefix}/{key}")["Body"].read(),
            write=lambda key, data: client.put_object(
                Bucket=BUCKET, Key=f"{prefix}/{key}", Body=data
            ),
            delete=lambda key: client.delete_object(Bucket=BUCKET, Key=f"{prefix}/{key}"),
            listing=keys,
            stop=self.stop,
            start=self.start,
            bad_credentials={
                "endpointurl": f"http://127.0.0.1:{self.strict_port}",
                "secret_access_key": "not-the-secret",
            },
        )


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    pytest.importorskip("moto.server", reason="S3 tests need moto[server]")
    pytest.importorskip("obstore", reason="S3 tests need obstore (pip install 'llmpipe[s3]')")
    server = MotoS3()
    yield server
    server.close()


# ---------------------------------------------------------------- SSH (OpenSSH)

SSHD = "/usr/sbin/sshd"


class OpenSSH:
    """sshd on a free loopback port, with generated host and user keys (root login)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.user_key = base / "id_user"
        self.wrong_key = base / "id_wrong"
        for key in (base / "host_key", self.user_key, self.wrong_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
        shutil.copy(f"{self.user_key}.pub", base / "authorized_keys")
        host_pub = (base / "host_key.pub").read_text().split()[:2]
        self.known_hosts = base / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {' '.join(host_pub)}\n")
        self.config = base / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\n"
            f"AuthorizedKeysFile {base / 'authorized_keys'}\nPermitRootLogin yes\n"
            "PasswordAuthentication no\nUsePAM no\nStrictModes no\nMaxSessions 64\n"
            "MaxStartups 64\nSubsystem sftp internal-sftp\n"
            f"PidFile {base / 'sshd.pid'}\n"
        )
        os.makedirs("/run/sshd", exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        with open(self.base / "sshd.log", "ab") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        wait_for_port(self.port)

    def stop(self) -> None:
        # The per-connection children too (they start their own sessions), as a crashed
        # host would drop them.
        if self.process is not None and self.process.poll() is None:
            for pid in [*_descendants(self.process.pid), self.process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def site(self, root: Path) -> RemoteSite:
        local = local_site(root)
        local.kind = "ssh"
        local.url = f"ssh://root@127.0.0.1:{self.port}{root}"
        local.options = {"keyfile": str(self.user_key), "known_hosts": str(self.known_hosts)}
        local.stop, local.start = self.stop, self.start
        local.bad_credentials = {"keyfile": str(self.wrong_key)}
        return local


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as handle:
                parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        found.extend(children)
        frontier = children
    return found


@pytest.fixture(scope="session")
def openssh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSSH]:
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        pytest.skip("SSH tests need OpenSSH: apt-get install -y openssh-server")
    pytest.importorskip("sshfs", reason="SSH tests need sshfs (pip install 'llmpipe[ssh]')")
    server = OpenSSH(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


_counter = iter(range(10**6))


@pytest.fixture(params=["local", "s3", "ssh"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteSite:
    """Each backend in turn, at a fresh empty location."""
    if request.param == "local":
        return local_site(tmp_path / "remote")
    if request.param == "s3":
        return request.getfixturevalue("moto_s3").site(f"t{next(_counter)}")
    root = tmp_path / "sshremote"
    root.mkdir()
    return request.getfixturevalue("openssh").site(root)


@pytest.fixture
def local_site_at() -> Callable[[Path], RemoteSite]:
    """Build a local-folder site at a given path."""
    return local_site


@pytest.fixture(params=["folder", "encrypted", "s3"])
def remote_kind(request, tmp_path):  # noqa: ANN001, ANN201
    """(kind, site) for the checkpoint tests: a folder remote, the same encrypted, S3."""
    if request.param == "s3":
        return request.param, request.getfixturevalue("moto_s3").site(f"ck-{uuid.uuid4().hex}")
    return request.param, local_site(tmp_path / "remote")
