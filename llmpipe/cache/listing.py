"""A directory's last listing: every file's (inode, mtime, size) and hash in one blob.

Looking up 10,000 files in the state DB row by row costs more than walking them;
the listing of the directory's last build answers all of them from one row. A
file's hash is reused only when its relative path, inode, `st_mtime_ns` and
`st_size` all match what the listing recorded: the state DB's own rule, keyed by
path as well. Anything the listing does not vouch for falls back to the state DB.

The listing also keeps the directory's own hash (of its `.dir` manifest): when the
same files come out with exactly the hashes listed, that is the directory's hash
again, and the manifest need not be serialised and hashed.

Blob: b"LPL2", the count n (8 bytes), then little-endian 64-bit integers: n
inodes (unsigned), n `st_mtime_ns` and n sizes (signed), then the n relative
paths, the n hashes and the directory's hash, all joined with NUL (which no file
name contains). A change to the `.dir` format must change the magic: an old blob's
directory hash would be stale.
"""

from __future__ import annotations

import itertools
import operator
import sys
from array import array
from typing import NamedTuple

from ..fsutil import StatLike

_MAGIC = b"LPL2"
_HEAD = len(_MAGIC) + 8


def _columns(files: list[tuple[str, StatLike]]) -> tuple[array, array, array]:
    stats = [st for _, st in files]
    return (
        array("Q", [st.st_ino for st in stats]),
        array("q", [st.st_mtime_ns for st in stats]),
        array("q", [st.st_size for st in stats]),
    )


class Recall(NamedTuple):
    """What a listing says about a walk's files."""

    # Per file, the hash the listing vouches for (None where it does not).
    values: list[str | None]
    # The hashes listed, when the same files were listed in the same order (else None).
    listed: list[str] | None
    # The directory's hash when its files hash to exactly `listed`.
    dir_value: str | None

    def unchanged_dir_value(self, values: list[str]) -> str | None:
        """The directory's hash when `values` (every file's now) are the listed ones."""
        return self.dir_value if self.listed is not None and values == self.listed else None


def encode(files: list[tuple[str, StatLike]], values: list[str], dir_value: str) -> bytes:
    """The listing blob of `files` (relpaths with stats) hashing to `values`, of a
    directory hashing to `dir_value`."""
    text = "\0".join([rel for rel, _ in files] + values + [dir_value])
    count = len(files).to_bytes(8, "little")
    return b"".join(
        [_MAGIC, count, *(_little(column) for column in _columns(files))]
        + [text.encode("utf-8", "surrogateescape")]
    )


def recall(blob: bytes | None, files: list[tuple[str, StatLike]]) -> Recall:
    """What the listing `blob` vouches for among `files` (sorted relpaths with stats)."""
    decoded = _decode(blob) if blob else None
    if decoded is None:
        return Recall([None] * len(files), None, None)
    rels, columns, values, dir_value = decoded
    if rels == [rel for rel, _ in files]:
        # The usual case, the same files in the same order: compare whole columns.
        results: list[str | None] = list(values)
        for now, then in zip(_columns(files), columns, strict=True):
            if now != then:
                for i in itertools.compress(range(len(now)), map(operator.ne, now, then)):
                    results[i] = None
        return Recall(results, values, dir_value)
    return Recall(_known_by_path(rels, columns, values, files), None, None)


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


def _decode(
    blob: bytes,
) -> tuple[list[str], tuple[array, array, array], list[str], str] | None:
    """(relpaths, the three number columns, hashes, the directory's hash), or None for
    a blob not in this format."""
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
    if len(strings) != 2 * count + 1 or not strings[-1]:
        return None
    return strings[:count], columns, strings[count:-1], strings[-1]
