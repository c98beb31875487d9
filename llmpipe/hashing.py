"""Streaming content hashes and DVC directory manifests.

DVC 3 hashes a file as the plain md5 of its bytes. A directory is hashed through
its manifest: a JSON list of `{"md5": …, "relpath": …}` sorted by relpath (as
strings), written by `json.dumps(..., sort_keys=True)`; the directory's hash is
the hash of those bytes followed by `.dir`. `blake3` is an llmpipe-only option.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

# blake2 (the memo's and the lock journal's keys) without `hashlib`, whose import
# loads OpenSSL: ~2 ms of every start-up. Re-exported for them.
try:
    from _blake2 import blake2b  # noqa: F401
except ImportError:  # not CPython
    from hashlib import blake2b  # noqa: F401

if TYPE_CHECKING:
    from .progress import Progress

HASH_NAMES = ("md5", "blake3")
# DVC 2's md5: text files hashed after CRLF -> LF, judged per 1 MiB chunk on its first
# 512 bytes (dvc_data's rule). Lock entries without `hash:` carry it; never written anew.
LEGACY_MD5 = "md5-dos2unix"
_LEGACY_CHUNK = 1 << 20
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"
CHUNK_SIZE = 4 * 1024 * 1024
# Above this size blake3 may use several threads for one file.
_BLAKE3_MT_SIZE = 64 * 1024 * 1024


def new_hasher(name: str = "md5", size_hint: int = 0) -> Any:
    """A fresh hashlib-like object for `name` (`md5` or `blake3`).

    Raises ConfigError for an unknown name or when blake3 is not installed.
    """
    if name in ("md5", LEGACY_MD5):  # a legacy .dir manifest is plain md5 of its bytes
        import hashlib

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
    if name == LEGACY_MD5:
        return _legacy_file_hash(path, progress)
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


def _legacy_file_hash(path: str, progress: Progress | None) -> str:
    hasher = new_hasher("md5")
    with open(path, "rb") as handle:
        while chunk := handle.read(_LEGACY_CHUNK):
            hasher.update(chunk.replace(b"\r\n", b"\n") if _is_text(chunk[:512]) else chunk)
            if progress is not None:
                progress.advance(len(chunk))
    return hasher.hexdigest()


def _is_text(block: bytes) -> bool:
    """dvc's guess: no NUL byte, and at most 30% of the bytes outside printable ASCII."""
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT_CHARS)) / len(block) <= 0.30


def manifest_key(name: str) -> str:
    """The key a `.dir` manifest names each file's hash by (DVC 2's says `md5`)."""
    return "md5" if name == LEGACY_MD5 else name


def bytes_hash(data: bytes, name: str = "md5") -> str:
    """The hex digest of `data`."""
    hasher = new_hasher(name, len(data))
    hasher.update(data)
    return hasher.hexdigest()


_JOIN_IN_C_MAX = 200_000


def dir_manifest_bytes(entries: Iterable[tuple[str, str]], name: str = "md5") -> bytes:
    """DVC's `.dir` object bytes for (posix relpath, hash) pairs, in any order."""
    from json.encoder import encode_basestring_ascii as quoted

    key = manifest_key(name)
    if key > "relpath" or quoted(key) != f'"{key}"':
        # Not the md5/blake3 case: let json order and escape the keys.
        listing = [{key: value, "relpath": relpath} for relpath, value in sorted(entries)]
        return json.dumps(listing, sort_keys=True).encode("utf-8")
    # What `json.dumps(listing, sort_keys=True)` writes, built directly (3x faster for a
    # 10,000-file directory): default separators, keys in order, ASCII escapes.
    pairs = sorted(entries)
    # The C join holds its pieces (paths, their escapes, each entry) alive together:
    # ~150 MiB more at a million files, where the per-entry path stays under 1 GB.
    fast = _joined_items(key, pairs, quoted) if len(pairs) <= _JOIN_IN_C_MAX else None
    if fast is not None:
        return fast
    items = ", ".join(
        f'{{"{key}": {quoted(value)}, "relpath": {quoted(relpath)}}}' for relpath, value in pairs
    )
    return f"[{items}]".encode()


def _joined_items(key: str, pairs: list[tuple[str, str]], quoted: Any) -> bytes | None:
    """`dir_manifest_bytes` joined in C, when every value is plain ASCII letters and
    digits (a hex hash) and the relpaths escape in one piece; None otherwise.

    The relpaths are escaped together, NUL-joined (no path holds a NUL), and split on
    the NUL's escape; a path whose own text makes that escape appear would split into
    more pieces than there are paths, and is caught by the count.
    """
    if not pairs:
        return b"[]"
    values = [value for _, value in pairs]
    plain = "".join(values)
    if not (plain.isascii() and plain.isalnum()):
        return None
    paths = quoted("\0".join(relpath for relpath, _ in pairs))[1:-1].split("\\u0000")
    if len(paths) != len(pairs):
        return None
    body = f'"}}, {{"{key}": "'.join(map('", "relpath": "'.join, zip(values, paths, strict=True)))
    return f'[{{"{key}": "{body}"}}]'.encode()


def dir_hash(manifest_bytes: bytes, name: str = "md5") -> str:
    """The hash value (ending in `.dir`) of a directory with these manifest bytes."""
    return bytes_hash(manifest_bytes, name) + ".dir"


def parse_dir_manifest(data: bytes, name: str = "md5") -> list[tuple[str, str]]:
    """(relpath, hash) pairs of `.dir` bytes; ValueError when malformed."""
    listing = json.loads(data)
    if not isinstance(listing, list):
        raise ValueError("a .dir object must hold a JSON list")
    pairs = []
    key = manifest_key(name)
    for item in listing:
        value = item.get(key) if isinstance(item, dict) else None
        relpath = item.get("relpath") if isinstance(item, dict) else None
        if not isinstance(value, str) or not isinstance(relpath, str):
            raise ValueError(f"bad .dir entry {item!r}")
        pairs.append((relpath, value))
    return pairs
