"""Read files at a git revision without checking anything out.

One long-lived `git cat-file --batch` process answers every object read, so a
listing over twenty branches costs a handful of subprocesses, not hundreds.
`GitObjects` is the raw object reader; `RevTree` is one commit's file tree;
`WorkTree` offers the same reading interface over the working directory.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable

from .errors import LlmpipeError


class GitObjects:
    """Reads git objects of the repository at `root` through `git cat-file --batch`.

    Use as a context manager or call `close()`; raises LlmpipeError when git
    is not installed or `root` is not a git repository.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._trees: dict[str, dict[str, str]] = {}
        try:
            self._proc = subprocess.Popen(
                ["git", "-C", root, "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
        except OSError as exc:
            raise LlmpipeError(
                f"cannot run git ({exc}); install git to compare revisions"
            ) from None

    def read(self, name: str) -> tuple[str, str, bytes] | None:
        """(oid, type, content) of the object `name` (`sha`, `rev:path`, `rev^{commit}`).

        None when the object does not exist.
        """
        if "\n" in name:
            return None
        with self._lock:
            stdin, stdout = self._proc.stdin, self._proc.stdout
            assert stdin is not None and stdout is not None
            stdin.write(name.encode("utf-8") + b"\n")
            stdin.flush()
            header = stdout.readline()
            if not header:
                raise LlmpipeError(f"git cat-file stopped unexpectedly in '{self.root}'")
            parts = header.split()
            if len(parts) != 3:  # "<name> missing" or "ambiguous"
                return None
            size = int(parts[2])
            content = stdout.read(size)
            stdout.read(1)  # the newline after every object
            return parts[0].decode(), parts[1].decode(), content

    def tree_files(self, commit: str) -> dict[str, str]:
        """{posix path: blob sha} of every regular file in `commit` (symlinks, submodules out).

        Walks tree objects through the batch process; a subtree shared by
        several commits (the usual case across branches) is read only once.
        """
        found = self.read(f"{commit}^{{tree}}")
        if found is None:
            raise LlmpipeError(f"cannot read the files of commit {commit[:10]}")
        return self._flat_tree(found[0])

    def _flat_tree(self, tree: str) -> dict[str, str]:
        cached = self._trees.get(tree)
        if cached is not None:
            return cached
        found = self.read(tree)
        if found is None or found[1] != "tree":
            raise LlmpipeError(f"git object {tree} is missing; is the clone complete?")
        files: dict[str, str] = {}
        # The raw id width follows the repository's hash: 20 bytes (sha1) or 32 (sha256).
        for mode, name, oid in _tree_entries(found[2], len(found[0]) // 2):
            if mode == b"40000":
                files.update((f"{name}/{p}", o) for p, o in self._flat_tree(oid).items())
            elif mode in (b"100644", b"100755"):
                files[name] = oid
        self._trees[tree] = files
        return files

    def commit_of(self, rev: str) -> str | None:
        """The full sha of the commit `rev` names, or None."""
        found = self.read(f"{rev}^{{commit}}")
        return found[0] if found else None

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> GitObjects:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class RevTree:
    """The files of one commit: listed once from its tree objects, read by blob id."""

    def __init__(self, objects: GitObjects, commit: str, prefix: str = "") -> None:
        self.objects = objects
        self.commit = commit
        # A project in a sub-folder of the git work tree sees only that folder.
        self.prefix = prefix.strip("/")
        self._blobs: dict[str, str] | None = None

    @property
    def blobs(self) -> dict[str, str]:
        """{posix path relative to the prefix: blob sha} of every file in the commit."""
        if self._blobs is None:
            blobs = self.objects.tree_files(self.commit)
            if self.prefix:
                start = self.prefix + "/"
                blobs = {p[len(start) :]: o for p, o in blobs.items() if p.startswith(start)}
            self._blobs = blobs
        return self._blobs

    def paths(self) -> Iterable[str]:
        return self.blobs.keys()

    def exists(self, relpath: str) -> bool:
        return relpath in self.blobs

    def oid(self, relpath: str) -> str | None:
        return self.blobs.get(relpath)

    def read_bytes(self, relpath: str) -> bytes | None:
        """Content of the file at `relpath`, or None when the commit has no such file."""
        oid = self.blobs.get(relpath)
        if oid is None:
            return None
        found = self.objects.read(oid)
        return found[2] if found else None


class WorkTree:
    """The working directory, read through the same interface as `RevTree`."""

    commit = None

    def __init__(self, root: str) -> None:
        self.root = root

    def exists(self, relpath: str) -> bool:
        return os.path.isfile(os.path.join(self.root, relpath))

    def oid(self, relpath: str) -> str | None:
        return None

    def read_bytes(self, relpath: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, relpath), "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None


def _tree_entries(content: bytes, width: int) -> list[tuple[bytes, str, str]]:
    """(mode, name, sha) of each entry of a raw tree object: `<mode> <name>\\0<20 bytes>`."""
    entries = []
    position = 0
    while position < len(content):
        space = content.index(b" ", position)
        nul = content.index(b"\0", space)
        mode = content[position:space]
        name = content[space + 1 : nul].decode("utf-8", "surrogateescape")
        entries.append((mode, name, content[nul + 1 : nul + 1 + width].hex()))
        position = nul + 1 + width
    return entries
