"""Share the audit trail through a remote, so a team keeps one trail.

The trail's chains live on the remote under `llmpipe/audit/`. Pulling merges
the remote's chains into the local log by record hash (verifying them first);
pushing does the same merge first, so what it uploads always extends what the
remote holds, and a chain that diverged is refused rather than overwritten.
Encrypted remotes do not carry the trail: its records name paths and hashes.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from .backends import open_backend
from .config import RemoteConfig

if TYPE_CHECKING:
    from ..repo import Repo

REMOTE_PREFIX = "llmpipe/audit"
_SHARED_SUFFIXES = (".jsonl", ".head")


def _local_dir(repo: Repo) -> str:
    from ..security.audit import audit_dir

    return audit_dir(repo.root)


def _shared_files(directory: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(directory) if n.endswith(_SHARED_SUFFIXES))
    except FileNotFoundError:
        return []


def pull_audit(repo: Repo, remote: RemoteConfig) -> dict[str, int]:
    """Merge the remote's audit chains into the local log; records added per chain."""
    if remote.encrypt:
        return {}
    from ..security.audit import merge_directory

    backend = open_backend(remote)
    try:
        names = [p.rsplit("/", 1)[-1] for p in backend.list_files(REMOTE_PREFIX)]
        names = [n for n in names if n.endswith(_SHARED_SUFFIXES)]
        if not names:
            return {}
        with tempfile.TemporaryDirectory(dir=repo.tmp_dir) as incoming:
            for name in names:
                backend.get_file(f"{REMOTE_PREFIX}/{name}", os.path.join(incoming, name))
            os.makedirs(_local_dir(repo), exist_ok=True)
            return merge_directory(_local_dir(repo), incoming)
    finally:
        backend.close()


def push_audit(repo: Repo, remote: RemoteConfig) -> int:
    """Upload the chains the remote lacks or holds shorter; returns files uploaded."""
    local = _local_dir(repo)
    if remote.encrypt or not _shared_files(local):
        return 0
    pull_audit(repo, remote)  # the remote's records first: uploads then only extend
    backend = open_backend(remote)
    uploaded = 0
    try:
        for name in _shared_files(local):
            path = os.path.join(local, name)
            with open(path, "rb") as handle:
                data = handle.read()
            target = f"{REMOTE_PREFIX}/{name}"
            if backend.exists(target) and backend.get_bytes(target) == data:
                continue
            backend.put_bytes(target, data)
            uploaded += 1
    finally:
        backend.close()
    return uploaded
