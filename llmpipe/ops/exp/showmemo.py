"""What `exp show` read at each commit, kept between commands (dvc keeps its own too).

A commit's params, metrics, deps and outs never change: they come from its git
objects and from cache objects named by the hashes it records. So once a commit
was read without any problem, its values (and its parents and time) are kept in a
checked file (`parsememo.write_entry`) under `.llmpipe/tmp/exps/`, named by a hash
of the commit, of whether only param deps were shown, and of a stamp of llmpipe's
code (size and mtime of every module below the CLI), so that an upgraded or edited
reader never meets values an older one found. A commit with a problem (a file that
could not be read, a spec error) is not kept: it is read, and reported, every time.
The workspace is never kept. A damaged entry is ignored and the commit read again.
"""

from __future__ import annotations

import functools
import hashlib
import os
from typing import Any

from ... import parsememo

FORMAT = b"exp-show-1"
MAX_ENTRIES = 4096  # `exp show -A` of a long history must not thrash

# (parents, committer time, (params, metrics, deps, outs) in dvc's JSON shapes)
Entry = tuple[list[str], int, tuple[dict, dict, dict, dict]]


class ShowMemo:
    """The kept values of commits for the project whose llmpipe folder is `llmpipe_dir`."""

    def __init__(self, llmpipe_dir: str, param_deps: bool) -> None:
        self.directory = os.path.join(llmpipe_dir, "tmp", "exps")
        self._salt = _code_stamp() + (b"deps" if param_deps else b"all")

    def _path(self, commit: str) -> str:
        digest = hashlib.blake2b(self._salt + commit.encode(), digest_size=20)
        return os.path.join(self.directory, digest.hexdigest())

    def recall(self, commit: str) -> Entry | None:
        found = parsememo.read_entry(self._path(commit))
        if not _well_formed(found):
            return None
        return found

    def remember(self, commit: str, entry: Entry) -> None:
        parsememo.write_entry(self._path(commit), entry, MAX_ENTRIES)


def _well_formed(found: Any) -> bool:
    """An entry of the shape `remember` writes (a checksum passed, but be strict)."""
    if not (isinstance(found, tuple) and len(found) == 3):
        return False
    parents, when, values = found
    return (
        isinstance(parents, list)
        and isinstance(when, int)
        and isinstance(values, tuple)
        and len(values) == 4
        and all(isinstance(v, dict) for v in values)
    )


@functools.cache
def _code_stamp() -> bytes:
    """FORMAT and (path, size, mtime) of every module of llmpipe outside `cli` and `ui`
    (the faces only render): any change to how values are read gives new names."""
    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parts = [FORMAT]

    def walk(directory: str) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                faces = directory == package and entry.name in ("cli", "ui")
                if entry.name != "__pycache__" and not faces:
                    walk(entry.path)
            elif entry.name.endswith(".py"):
                st = entry.stat()
                parts.append(f"{entry.path}:{st.st_size}:{st.st_mtime_ns}".encode())

    walk(package)
    return b"\0".join(parts)
