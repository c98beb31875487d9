"""Streaming content hashes and DVC directory manifests.

DVC 3 hashes a file as the plain md5 of its bytes. A directory is hashed through
its manifest: a JSON list of `{"md5": …, "relpath": …}` sorted by relpath (as
strings), written by `json.dumps(..., sort_keys=True)`; the directory's hash is
the hash of those bytes followed by `.dir`. `blake3` is an llmpipe-only option.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from .progress import Progress

HASH_NAMES = ("md5", "blake3")
CHUNK_SIZE = 4 * 1024 * 1024
# Above this size blake3 may use several threads for one file.
_BLAKE3_MT_SIZE = 64 * 1024 * 1024


def new_hasher(name: str = "md5", size_hint: int = 0) -> Any:
    """A fresh hashlib-like object for `name` (`md5` or `blake3`).

    Raises ConfigError for an unknown name or when blake3 is not installed.
    """
    if name == "md5":
        return hashlib.md5()
    if name == "blake3":
        return _new_blake3(size_hint)
    raise ConfigError(f"unknown hash algorithm '{name}': use one of {', '.join(HASH_NAMES)}")


def _new_blake3(size_hint: int) -> Any:
    try:
        import blake3
    except ImportError as exc:
        raise ConfigError(
            "hash algorithm 'blake3' needs the blake3 package: pip install llmpipe[blake3]"
        ) from exc
    if size_hint >= _BLAKE3_MT_SIZE:
        return blake3.blake3(max_threads=blake3.blake3.AUTO)
    return blake3.blake3()


def file_hash(path: str, name: str = "md5", progress: Progress | None = None) -> str:
    """The hex digest of the file at `path`, read in large chunks.

    `progress.advance` receives the number of bytes read (start/finish are the
    caller's). Raises OSError (FileNotFoundError, …) when the file can't be read.
    """
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        hasher = new_hasher(name, size)
        if size < CHUNK_SIZE:
            # Small files (the common case in big directories): no buffer to allocate.
            _hash_small(handle, hasher, progress)
        else:
            _hash_chunked(handle, hasher, progress)
    return hasher.hexdigest()


def _hash_small(handle: Any, hasher: Any, progress: Progress | None) -> None:
    while data := handle.read(CHUNK_SIZE):
        hasher.update(data)
        if progress is not None:
            progress.advance(len(data))


def _hash_chunked(handle: Any, hasher: Any, progress: Progress | None) -> None:
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    while count := handle.readinto(buffer):
        # hashlib releases the GIL for large updates: threads hash in parallel.
        hasher.update(view[:count])
        if progress is not None:
            progress.advance(count)


def bytes_hash(data: bytes, name: str = "md5") -> str:
    """The hex digest of `data`."""
    hasher = new_hasher(name, len(data))
    hasher.update(data)
    return hasher.hexdigest()


def dir_manifest_bytes(entries: Iterable[tuple[str, str]], name: str = "md5") -> bytes:
    """DVC's `.dir` object bytes for (posix relpath, hash) pairs, in any order."""
    ordered = sorted(entries)
    listing = [{name: value, "relpath": relpath} for relpath, value in ordered]
    return json.dumps(listing, sort_keys=True).encode("utf-8")


def dir_hash(manifest_bytes: bytes, name: str = "md5") -> str:
    """The hash value (ending in `.dir`) of a directory with these manifest bytes."""
    return bytes_hash(manifest_bytes, name) + ".dir"


def parse_dir_manifest(data: bytes, name: str = "md5") -> list[tuple[str, str]]:
    """(relpath, hash) pairs of `.dir` bytes; ValueError when malformed."""
    listing = json.loads(data)
    if not isinstance(listing, list):
        raise ValueError("a .dir object must hold a JSON list")
    pairs = []
    for item in listing:
        value = item.get(name) if isinstance(item, dict) else None
        relpath = item.get("relpath") if isinstance(item, dict) else None
        if not isinstance(value, str) or not isinstance(relpath, str):
            raise ValueError(f"bad .dir entry {item!r}")
        pairs.append((relpath, value))
    return pairs
