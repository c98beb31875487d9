"""Where objects live on a remote, and which of them are already there.

Plain remotes use DVC 3's layout, `files/<algo>/ab/cdef…` (so `dvc` shares
them); encrypted remotes store `llmpipe-encrypted/ab/<62 hex>` under keyed
names plus a `keycheck` blob. `present` decides between listing the remote
and asking per object, whichever costs fewer requests.

A remote that holds a `keycheck` is encrypted for good: `refuse_if_encrypted`
stops a client configured for a plain remote from writing plaintext there (or
reading it as plain), so a commit that drops `encrypt = true` leaks nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..cache.odb import present_objects
from ..errors import EncryptedRemoteError
from .backends import Backend, LocalBackend, open_backend, translated

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from .crypto import Cipher

ENCRYPTED_DIR = "llmpipe-encrypted"
KEYCHECK = f"{ENCRYPTED_DIR}/keycheck"
_LIST_PAGE = 1000  # objects per listing request (S3, GCS, Azure)


def refuse_if_encrypted(backend: Backend, remote: RemoteConfig) -> None:
    """Raise EncryptedRemoteError when `remote`, configured as plain, holds a key check.

    One small request per command (not per object). Pushing plaintext beside sealed
    objects would leak what encryption was meant to hide; reading would fail anyway.
    """
    with translated(remote):
        encrypted = backend.exists(KEYCHECK)
    if encrypted:
        raise EncryptedRemoteError(
            f"remote '{remote.name}' ({remote.url}) is encrypted (it holds {KEYCHECK}) but "
            "is configured as a plain remote: refusing to send it plaintext or read it as "
            f"plain. Restore the setting with 'llmpipe remote modify {remote.name} encrypt "
            "true' and set its key (LLMPIPE_REMOTE_KEY or the remote's key_file); to stop "
            "encrypting, use a new location"
        )


def open_cipher(backend: Backend, remote: RemoteConfig, create: bool) -> Cipher | None:
    """The cipher of `remote` (None for a plain one), in the format its key check names.

    A fresh remote gets a format 2 key check when `create` (push). Two clients making
    the same remote at once: the last write wins, and both adopt what is there.
    CryptoError for a wrong key; EncryptedRemoteError for a plain remote with a key check.
    """
    if not remote.encrypt:
        refuse_if_encrypted(backend, remote)
        return None
    from .crypto import load_key, new_key_check, open_key_check  # encrypted remotes only

    material = load_key(remote)
    with translated(remote):
        blob = _read_or_none(backend, KEYCHECK)
        if blob is not None:
            return open_key_check(blob, material, remote.name)
        fresh, cipher = new_key_check(material, remote.name)
        if not create:
            return cipher  # nothing is stored under any name yet
        backend.put_bytes(KEYCHECK, fresh)
        there = backend.get_bytes(KEYCHECK)
    return cipher if there == fresh else open_key_check(there, material, remote.name)


def _read_or_none(backend: Backend, relpath: str) -> bytes | None:
    try:
        return backend.get_bytes(relpath)
    except FileNotFoundError:
        return None


class Layout:
    """Object naming on one remote; `cipher` set for encrypted remotes."""

    def __init__(self, backend: Backend, hash_name: str, cipher: Cipher | None = None) -> None:
        self.backend = backend
        self.hash_name = hash_name
        self.cipher = cipher
        self.prefix = ENCRYPTED_DIR if cipher else f"files/{hash_name}"

    def path(self, oid: str) -> str:
        name = self.cipher.object_name(oid) if self.cipher else oid
        return f"{self.prefix}/{name[:2]}/{name[2:]}"

    def present(self, oids: Iterable[str], jobs: int) -> set[str]:
        """The subset of `oids` that exist on the remote."""
        oids = list(dict.fromkeys(oids))
        if not oids:
            return set()
        if isinstance(self.backend, LocalBackend):
            return self._present_in_folder(self.backend, oids)
        if len(oids) <= jobs:
            return self._exists_each(oids, jobs)
        sample = random.choice("0123456789abcdef") + random.choice("0123456789abcdef")
        in_sample = sum(1 for _ in self.backend.list_files(f"{self.prefix}/{sample}"))
        # Listing everything costs ~estimate/page requests; asking costs one per object,
        # `jobs` at a time.
        estimate = in_sample * 256
        if estimate / _LIST_PAGE <= len(oids) / jobs:
            return self._listed(oids)
        return self._exists_each(oids, jobs)

    def _present_in_folder(self, folder: LocalBackend, oids: list[str]) -> set[str]:
        """One stat per shard folder, then a listing of it or a stat per object,
        whichever is cheaper (`present_objects`)."""
        names = {self.cipher.object_name(oid) if self.cipher else oid: oid for oid in oids}
        return present_objects(lambda shard: folder.local_path(f"{self.prefix}/{shard}"), names)

    def _listed(self, oids: list[str]) -> set[str]:
        on_remote = set(self.backend.list_files(self.prefix))
        return {oid for oid in oids if self.path(oid) in on_remote}

    def _exists_each(self, oids: list[str], jobs: int) -> set[str]:
        check: Callable[[str], bool] = lambda oid: self.backend.exists(self.path(oid))  # noqa: E731
        if len(oids) < 8:
            return {oid for oid in oids if check(oid)}
        from concurrent.futures import ThreadPoolExecutor  # not on a folder remote's path

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            return {oid for oid, ok in zip(oids, pool.map(check, oids), strict=True) if ok}


def connect(remote: RemoteConfig, hash_name: str, create: bool) -> Layout:
    """Open `remote` with its cipher (see `open_cipher`); the caller closes the backend."""
    backend = open_backend(remote)
    try:
        cipher = open_cipher(backend, remote, create)
    except BaseException:
        backend.close()
        raise
    return Layout(backend, hash_name, cipher)
