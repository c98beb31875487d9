"""A memo of parsed YAML, keyed by the text itself: an unchanged file is not parsed again.

A no-op `repro` used to spend about a fifth of its time importing PyYAML and parsing
dvc.yaml, dvc.lock and params files that had not changed since the last run. Once a
text has been parsed, its data is kept in a file named by a hash of the text (and of
the reading rules), so there is nothing to invalidate: an edited file is another text
and another entry. Each entry holds a checksum and the `marshal` bytes of the data
and of the key lines (by path in the data); a damaged or unreadable entry is ignored
and the text parsed again. Data `marshal` cannot hold (a `!!timestamp`), a recursive
alias, and a document whose aliases make its paths too many (an alias bomb) are simply
not remembered. Errors are never remembered: invalid YAML is parsed, and reported, every
time.

The memo lives in the project (`.llmpipe/tmp/parsed/`, machine-local, git-ignored);
`use()` points it there when a project is opened. At most `MAX_ENTRIES` are kept.
`read_entry`/`write_entry` (checked `marshal` files) serve other memos too (`exp show`'s).
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import os
import threading
from typing import Any

from .hashing import blake2b

# Part of every key: bump it when yamlio's reading rules change.
FORMAT = b"yaml-1.2-lines-1"
MAX_ENTRIES = 512
_CHECK = 16  # bytes of blake2b over the payload, in front of it

_directory: str | None = None


def use(directory: str | None) -> None:
    """Keep parsed data under `directory` (None: remember nothing)."""
    global _directory
    _directory = directory


def _entry(text: str) -> str | None:
    if _directory is None:
        return None
    digest = blake2b(_rules() + text.encode("utf-8", "surrogatepass"), digest_size=20)
    return os.path.join(_directory, digest.hexdigest())


@functools.cache
def _rules() -> bytes:
    """FORMAT and the size and mtime of yamlio.py: an edited reader never meets old data."""
    try:
        st = os.stat(os.path.join(os.path.dirname(__file__), "yamlio.py"))
    except OSError:
        return FORMAT
    return FORMAT + f":{st.st_size}:{st.st_mtime_ns}:".encode()


def recall(text: str, lines: bool = True) -> tuple[Any, dict[int, dict[Any, int]]] | None:
    """(data, key lines by id of each mapping) for `text` parsed before, or None.

    Without `lines` the caller needs only the data, and an entry kept without key
    lines (`remember(..., None)`: a lock file its writer recorded) serves as well.
    """
    path = _entry(text)
    found = None if path is None else read_entry(path)
    if found is None:
        return None
    try:
        data, by_path = found
        if by_path is None:
            return None if lines else (data, {})
        return data, {id(_at(data, where)): at for where, at in by_path}
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def read_entry(path: str) -> Any:
    """The value `write_entry` kept at `path`; None when absent, damaged or unreadable."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    payload = raw[_CHECK:]
    if blake2b(payload, digest_size=_CHECK).digest() != raw[:_CHECK]:
        return None
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def _at(data: Any, where: tuple) -> Any:
    for step in where:
        data = data[step]
    return data


def remember(text: str, data: Any, key_lines: dict[int, dict[Any, int]] | None) -> None:
    """Keep `data` (parsed from `text`) and its key lines; silently skip what can't be kept.

    `key_lines` None: the writer of `text` knows its data but not its lines (see `recall`).
    """
    path = _entry(text)
    if path is None:
        return
    by_path: list[tuple[tuple, dict[Any, int]]] | None = None
    if key_lines is not None:
        by_path = []
        if not _collect(data, (), key_lines, by_path, set()):
            return
    write_entry(path, (data, by_path))


def write_entry(path: str, value: Any, max_entries: int | None = None) -> None:
    """Keep `value` (what `marshal` holds) at `path`, checksummed, replacing it whole;
    then drop the older half of its folder's entries once there are over `max_entries`
    (default MAX_ENTRIES).
    Silently keeps nothing when `value` or the file cannot be written: this is a memo."""
    try:
        payload = marshal.dumps(value)
    except ValueError:  # a type marshal does not know
        return
    check = blake2b(payload, digest_size=_CHECK).digest()
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(check + payload)
        os.replace(tmp, path)
        _prune(os.path.dirname(path), max_entries or MAX_ENTRIES)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


# Nodes walked to record key lines before giving up: aliases make a document's paths
# exponentially many (an alias bomb would hang the walk); no real pipeline file comes near.
_WALK_BUDGET = 100_000


def _collect(data: Any, where: tuple, key_lines: dict, out: list, active: set[int]) -> bool:
    """Record the key lines of every mapping by its path; False for a recursive document
    or one with too many paths."""
    budget = [_WALK_BUDGET]

    def walk(node: Any, where: tuple) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if not isinstance(node, dict | list):
            return True
        if id(node) in active:
            return False
        active.add(id(node))
        if isinstance(node, dict):
            if id(node) in key_lines:
                out.append((where, key_lines[id(node)]))
            items = node.items()
        else:
            items = enumerate(node)
        if not all(walk(value, (*where, step)) for step, value in items):
            return False
        active.discard(id(node))
        return True

    return walk(data, where)


def _prune(directory: str, max_entries: int) -> None:
    """Drop the older half of the entries once there are more than `max_entries`."""
    names = [name for name in os.listdir(directory) if not name.endswith(".tmp")]
    if len(names) <= max_entries:
        return
    paths = [os.path.join(directory, name) for name in names]
    with contextlib.suppress(OSError):
        paths.sort(key=lambda p: os.stat(p).st_mtime_ns)
    for old in paths[: len(paths) // 2]:
        with contextlib.suppress(OSError):
            os.unlink(old)
