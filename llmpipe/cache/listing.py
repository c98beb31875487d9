"""A directory's last listing: every file's (inode, mtime, size) and hash in one blob.

Looking up 10,000 files in the state DB row by row costs more than walking them;
the listing of the directory's last build answers all of them from one row. A
file's hash is reused only when its relative path, inode, `st_mtime_ns` and
`st_size` all match what the listing recorded: the state DB's own rule, keyed by
path as well. Anything the listing does not vouch for falls back to the state DB.

Blob: b"LPL1", the count n (8 bytes), then little-endian 64-bit integers: n
inodes (unsigned), n `st_mtime_ns` and n sizes (signed), then the n relative
paths followed by the n hashes, all joined with NUL (which no file name contains).
"""

from __future__ import annotations

import itertools
import operator
import sys
from array import array

from ..fsutil import StatLike

_MAGIC = b"LPL1"
_HEAD = len(_MAGIC) + 8


def _columns(files: list[tuple[str, StatLike]]) -> tuple[array, array, array]:
    stats = [st for _, st in files]
    return (
        array("Q", [st.st_ino for st in stats]),
        array("q", [st.st_mtime_ns for st in stats]),
        array("q", [st.st_size for st in stats]),
    )


def encode(files: list[tuple[str, StatLike]], values: list[str]) -> bytes:
    """The listing blob of `files` (relpaths with stats) hashing to `values`."""
    text = "\0".join([rel for rel, _ in files] + values)
    count = len(files).to_bytes(8, "little")
    return b"".join(
        [_MAGIC, count, *(_little(column) for column in _columns(files))]
        + [text.encode("utf-8", "surrogateescape")]
    )


def known(blob: bytes | None, files: list[tuple[str, StatLike]]) -> list[str | None]:
    """The hash the listing vouches for, per file (None where it does not)."""
    decoded = _decode(blob) if blob else None
    if decoded is None:
        return [None] * len(files)
    rels, columns, values = decoded
    if rels == [rel for rel, _ in files]:
        # The usual case, the same files in the same order: compare whole columns.
        results: list[str | None] = list(values)
        for now, then in zip(_columns(files), columns, strict=True):
            if now != then:
                for i in itertools.compress(range(len(now)), map(operator.ne, now, then)):
                    results[i] = None
        return results
    return _known_by_path(rels, columns, values, files)


def _known_by_path(
    rels: list[str],
    columns: tuple[array, array, array],
    values: list[str],
    files: list[tuple[str, StatLike]],
) -> list[str | None]:
    index = {rel: i for i, rel in enumerate(rels)}
    inodes, mtimes, sizes = columns
    results: list[str | None] = []
    for rel, st in files:
        i = index.get(rel)
        same = (
            i is not None
            and inodes[i] == st.st_ino
            and mtimes[i] == st.st_mtime_ns
            and sizes[i] == st.st_size
        )
        results.append(values[i] if same else None)  # type: ignore[index]
    return results


def covers(blob: bytes | None, count: int) -> bool:
    """Whether `blob` lists exactly `count` files (when each of them was vouched for,
    the listing is then still the directory's and need not be written again)."""
    return bool(blob) and blob[: len(_MAGIC)] == _MAGIC and _count(blob) == count


def _count(blob: bytes) -> int:
    return int.from_bytes(blob[len(_MAGIC) : _HEAD], "little")


def _little(column: array) -> bytes:
    if sys.byteorder == "big":
        column = array(column.typecode, column)
        column.byteswap()
    return column.tobytes()


def _column(typecode: str, data: bytes) -> array:
    column = array(typecode)
    column.frombytes(data)
    if sys.byteorder == "big":
        column.byteswap()
    return column


def _decode(blob: bytes) -> tuple[list[str], tuple[array, array, array], list[str]] | None:
    """(relpaths, the three number columns, hashes), or None for a blob not in this
    format."""
    if len(blob) < _HEAD or blob[: len(_MAGIC)] != _MAGIC:
        return None
    count = _count(blob)
    end = _HEAD + 24 * count
    if count == 0 or len(blob) < end:
        return None
    width = 8 * count
    columns = (
        _column("Q", blob[_HEAD : _HEAD + width]),
        _column("q", blob[_HEAD + width : _HEAD + 2 * width]),
        _column("q", blob[_HEAD + 2 * width : end]),
    )
    strings = blob[end:].decode("utf-8", "surrogateescape").split("\0")
    if len(strings) != 2 * count:
        return None
    return strings[:count], columns, strings[count:]
