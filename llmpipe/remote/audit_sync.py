"""Share the audit trail through a remote, so a team keeps one trail.

The trail's chains live on the remote under `llmpipe/audit/`. Pulling merges
the remote's chains into the local log by record hash (verifying them first);
pushing does the same merge first, so what it uploads always extends what the
remote holds, and a chain that diverged is refused rather than overwritten.
Encrypted remotes do not carry the trail: its records name paths and hashes;
one configured as plain by mistake (or by a commit) is refused, never written.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from ..config import RemoteConfig
from .backends import Backend, open_backend
from .layout import refuse_if_encrypted

if TYPE_CHECKING:
    from ..project import Project

REMOTE_PREFIX = "llmpipe/audit"
_SHARED_SUFFIXES = (".jsonl", ".head")


def _local_dir(repo: Project) -> str:
    from ..security.audit.log import audit_dir

    return audit_dir(repo.root)


def _shared_files(directory: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(directory) if n.endswith(_SHARED_SUFFIXES))
    except FileNotFoundError:
        return []


def pull_audit(repo: Project, remote: RemoteConfig) -> dict[str, int]:
    """Merge the remote's audit chains into the local log; records added per chain.

    EncryptedRemoteError when the remote, configured as plain, is encrypted.
    """
    if remote.encrypt:
        return {}
    backend = open_backend(remote)
    try:
        refuse_if_encrypted(backend, remote)
        return _merge_from(repo, backend)
    finally:
        backend.close()


def _merge_from(repo: Project, backend: Backend) -> dict[str, int]:
    from ..security.audit.merge import merge_directory

    names = [p.rsplit("/", 1)[-1] for p in backend.list_files(REMOTE_PREFIX)]
    names = [n for n in names if n.endswith(_SHARED_SUFFIXES)]
    if not names:
        return {}
    with tempfile.TemporaryDirectory(dir=repo.tmp_dir) as incoming:
        for name in names:
            backend.get_file(f"{REMOTE_PREFIX}/{name}", os.path.join(incoming, name))
        os.makedirs(_local_dir(repo), exist_ok=True)
        return merge_directory(_local_dir(repo), incoming)


def push_audit(repo: Project, remote: RemoteConfig) -> int:
    """Upload the chains the remote lacks or holds shorter; returns files uploaded.

    Never uploads to an encrypted remote (EncryptedRemoteError when it is configured
    as plain): the records name paths and content hashes.
    """
    local = _local_dir(repo)
    if remote.encrypt or not _shared_files(local):
        return 0
    backend = open_backend(remote)
    try:
        refuse_if_encrypted(backend, remote)
        _merge_from(repo, backend)  # the remote's records first: uploads then only extend
        return _upload_changed(local, backend)
    finally:
        backend.close()


def _upload_changed(local: str, backend: Backend) -> int:
    uploaded = 0
    for name in _shared_files(local):
        with open(os.path.join(local, name), "rb") as handle:
            data = handle.read()
        target = f"{REMOTE_PREFIX}/{name}"
        if backend.exists(target) and backend.get_bytes(target) == data:
            continue
        backend.put_bytes(target, data)
        uploaded += 1
    return uploaded
