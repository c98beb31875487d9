"""The transfer engine: move objects between the cache and a remote, in parallel.

Each object is one task, retried with backoff on transient (network) errors.
A failure of one object (missing, corrupt, failed authentication) is recorded
in the result and the rest go on; an error that dooms every task (refused
credentials, a server that stays down) stops the run and is raised, after the
finished objects have been kept. Downloads land in a temporary file in the
cache, are verified against their hash, and only then renamed into place; from
a folder remote the object is verified where it lies and then hard-linked in
(or written from the verified bytes), so each object is read once.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import CorruptObject, CryptoError
from ..fsutil import read_exactly
from ..hashing import bytes_hash, file_hash, new_hasher
from .backends import LocalBackend, is_transient, translate, translated

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..config import RemoteConfig
    from ..progress import TransferProgress
    from .layout import Layout

RETRIES = 3
BACKOFF = 0.25  # seconds before the first retry; doubles each time


@dataclass(frozen=True)
class Failure:
    oid: str
    reason: str


@dataclass(frozen=True)
class Missing:
    """An object a push could not send: in neither the cache nor the remote."""

    oid: str
    name: str  # the output (or file of a directory output) it belongs to


@dataclass(frozen=True)
class TransferResult:
    """What moved, what failed (and why), how many were already in place, and (push)
    what exists nowhere: dvc warns about those and pushes the rest."""

    transferred: tuple[str, ...] = ()
    failed: tuple[Failure, ...] = ()
    skipped: int = 0
    missing: tuple[Missing, ...] = ()

    def __add__(self, other: TransferResult) -> TransferResult:
        return TransferResult(
            self.transferred + other.transferred,
            self.failed + other.failed,
            self.skipped + other.skipped,
            self.missing + other.missing,
        )


@dataclass
class _Run:
    done: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run_tasks(
    oids: list[str],
    task: Callable[[str], int],
    remote: RemoteConfig,
    jobs: int,
    progress: TransferProgress,
) -> TransferResult:
    """Run `task(oid)` (returning the bytes moved) for every oid on `jobs` threads.

    See the module doc for errors.
    """
    state = _Run()

    def one(oid: str) -> None:
        if state.stop.is_set():
            return
        try:
            moved = _with_retries(task, oid, state.stop)
        except (FileNotFoundError, CorruptObject, CryptoError) as exc:
            with state.lock:
                state.failed.append(Failure(oid, _reason(exc)))
        except BaseException:
            state.stop.set()
            raise
        else:
            with state.lock:
                state.done.append(oid)
            progress.add_bytes(moved)
        progress.advance(1)

    if jobs <= 1:
        # One at a time: a pool's per-task overhead would cost more than local file work.
        with translated(remote):
            for oid in oids:
                one(oid)
    elif oids:
        _run_all(oids, one, remote, jobs)
    return TransferResult(tuple(state.done), tuple(state.failed))


def _run_all(oids: list[str], one: Callable[[str], None], remote: RemoteConfig, jobs: int) -> None:
    # Imported here: a folder transfer runs on one thread and never needs a pool.
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max(1, min(jobs, len(oids)))) as pool:
        futures = [pool.submit(one, oid) for oid in oids]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        errors = [f.exception() for f in finished if f.exception() is not None]
        if errors:
            for future in futures:
                future.cancel()
            raise translate(errors[0], remote) from errors[0]


def _with_retries(task: Callable[[str], int], oid: str, stop: threading.Event) -> int:
    for attempt in range(RETRIES + 1):
        try:
            return task(oid)
        except Exception as exc:
            if attempt == RETRIES or not is_transient(exc) or stop.is_set():
                raise
        time.sleep(BACKOFF * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "not on the remote"
    return str(exc)


def upload_task(odb: ObjectDB, layout: Layout, scratch: str) -> Callable[[str], int]:
    """A task that sends cache object `oid` to the remote (sealed first if encrypted)."""

    def upload(oid: str) -> int:
        src = odb.oid_path(oid)
        if layout.cipher is None:
            size = layout.backend.put_file(src, layout.path(oid))
            return os.path.getsize(src) if size is None else size
        sealed = _scratch_name(scratch, oid)
        try:
            with open(src, "rb") as plain, open(sealed, "wb") as out:
                layout.cipher.encrypt_stream(plain, out, oid)
            layout.backend.put_file(sealed, layout.path(oid))
            return os.path.getsize(sealed)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(sealed)

    return upload


def download_task(
    odb: ObjectDB, layout: Layout, scratch: str, verify: bool = True
) -> Callable[[str], int]:
    """A task that fetches `oid` into the cache, verified (and opened if encrypted).

    `verify=False` (the remote's `verify false`, as dvc's default) trusts the remote:
    objects are not checked against their hash (`.dir` manifests still are, when read).
    """
    hash_name = odb.hash_name if verify else None

    # A plain folder remote is read in place; sealed objects go through the copy path.
    plain = isinstance(layout.backend, LocalBackend) and layout.cipher is None
    folder = layout.backend if plain else None

    # Hard links need one filesystem; across two, each object would pay a failed link.
    linkable = folder is not None and _device(folder.root) == _device(odb.root)

    def download(oid: str) -> int:
        if folder is not None:
            src = folder.local_path(layout.path(oid))
            size = _fetch_from_folder(odb, src, oid, verify, linkable)
            if size is not None:
                return size
        tmp = odb.temp_path(oid)
        try:
            if not _fetch_into(layout, oid, tmp, scratch, hash_name):
                raise _corrupt(oid)
            size = os.path.getsize(tmp)
            odb.commit_temp(tmp, oid)
            return size
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    return download


_IN_MEMORY = 1 << 20  # objects up to this size are read once and verified in memory


def _fetch_from_folder(
    odb: ObjectDB, src: str, oid: str, verify: bool = True, linkable: bool = True
) -> int | None:
    """Fetch from a folder remote by verifying `src` in place; its size, or None: copy it.

    A read-only source (objects are) on the cache's filesystem (`linkable`) is
    hard-linked into the cache after its hash checks out; a small one is written
    from the verified bytes. Either way each object is read once (not at all
    unverified). A large one that cannot be linked is left to the copy path, which
    hashes it while copying.
    """
    if not verify:
        if not linkable:
            return None
        st = os.stat(src)
        if not st.st_mode & 0o222 and odb.link_object(src, oid, st.st_ino):
            return st.st_size
        return None
    fd = os.open(src, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        data = read_exactly(fd, st.st_size) if st.st_size <= _IN_MEMORY else None
    finally:
        os.close(fd)
    shareable = linkable and not st.st_mode & 0o222
    if data is None and not shareable:
        return None
    digest = bytes_hash(data, odb.hash_name) if data is not None else file_hash(src, odb.hash_name)
    if not _names(digest, oid):
        raise _corrupt(oid)
    if shareable and odb.link_object(src, oid, st.st_ino):
        return st.st_size
    if data is None:
        return None
    odb.add_bytes(oid, data)
    return st.st_size


def _device(path: str) -> int | None:
    """The device of `path`, or of its nearest existing parent (a fresh clone has no cache yet)."""
    while True:
        try:
            return os.stat(path).st_dev
        except FileNotFoundError:
            parent = os.path.dirname(path)
            if parent == path:
                return None
            path = parent
        except OSError:
            return None


def _fetch_into(layout: Layout, oid: str, tmp: str, scratch: str, hash_name: str | None) -> bool:
    """Download (and decrypt) object `oid` into `tmp`; True when its content matches.

    With no `hash_name` nothing is checked (but AES-GCM still authenticates).
    """
    if layout.cipher is None:
        hasher = new_hasher(hash_name) if hash_name else None
        if layout.backend.get_file(layout.path(oid), tmp, hasher):
            return _names(hasher.hexdigest(), oid)
        return hash_name is None or _matches(tmp, oid, hash_name)
    sealed = _scratch_name(scratch, oid)
    try:
        layout.backend.get_file(layout.path(oid), sealed)
        with open(sealed, "rb") as src, open(tmp, "wb") as out:
            layout.cipher.decrypt_stream(src, out, oid)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(sealed)
    return hash_name is None or _matches(tmp, oid, hash_name)


def _matches(path: str, oid: str, hash_name: str) -> bool:
    return _names(file_hash(path, hash_name), oid)


def _names(digest: str, oid: str) -> bool:
    """True when content hashing to `digest` is object `oid` (a `.dir` id adds a suffix)."""
    return digest == oid.removesuffix(".dir")


def _corrupt(oid: str) -> CorruptObject:
    return CorruptObject(
        f"object {oid} on the remote is corrupt (its content does not match its hash); "
        "it was not used"
    )


def _scratch_name(scratch: str, oid: str) -> str:
    os.makedirs(scratch, exist_ok=True)
    return os.path.join(scratch, f"{oid}.{threading.get_ident()}.{time.monotonic_ns()}.tmp")


def ordered_for_push(oids: Iterable[str]) -> tuple[list[str], list[str]]:
    """Files first, `.dir` objects after: a `.dir` on a remote promises its entries."""
    files, dirs = [], []
    for oid in dict.fromkeys(oids):
        (dirs if oid.endswith(".dir") else files).append(oid)
    return files, dirs
