"""Read files at a git revision without checking anything out.

One long-lived `git cat-file --batch` process answers every object read, so a
listing over twenty branches costs a handful of subprocesses, not hundreds.
`GitObjects` is the raw object reader; `RevTree` is one commit's file tree;
`WorkTree` offers the same reading interface (`FileTree`) over the working
directory. `TreeMemo` lets a reader of many commits parse a file once for all
the commits that hold the same blobs.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Collection, Hashable, Iterable
from functools import cached_property
from typing import IO, Protocol, TypeVar

from . import scm
from .errors import LlmpipeError, RevisionError

T = TypeVar("T")
NamePredicate = Callable[[str], bool]
FolderPredicate = Callable[[str, Collection[str]], bool]  # (folder name, names inside)
_KEPT_BLOB_BYTES = 1 << 16  # spec and lock files; metrics and plots data may be larger
_KEPT_BYTES = 64 << 20
_BATCH = 256  # object names per request: ~10 KiB, well within a pipe's buffer
_TREE = b"40000"
_ABSENT = (b"", "")
_FILE_MODES = (b"100644", b"100755")  # regular files; symlinks and submodules are left out


class GitObjects:
    """Reads git objects of the repository at `root` through `git cat-file --batch`.

    Use as a context manager or call `close()`. The process starts with the
    first read (a command that reads no commit starts none); a read raises
    LlmpipeError when git is not installed.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._entries: dict[str, dict[str, tuple[bytes, str]]] = {}
        self._flat: dict[str, dict[str, str]] = {}
        self._found: dict[tuple[str, object, object], list[tuple[str, str]]] = {}
        self._blobs: dict[str, bytes] = {}
        self._unkept: set[str] = set()  # blobs too large to keep: handed out once
        self._blob_bytes = 0
        self._commit_trees: dict[str, str] = {}
        # Parse results by (parser, blob id): a blob's content never changes.
        self.parsed: dict[tuple[Callable[..., object], str], object] = {}

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            try:
                self._proc = subprocess.Popen(
                    ["git", "-C", self.root, "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                )
            except OSError as exc:
                raise LlmpipeError(
                    f"cannot run git ({exc}); install git to read other revisions"
                ) from None
        return self._proc

    def read(self, name: str) -> tuple[str, str, bytes] | None:
        """(oid, type, content) of the object `name` (`sha`, `rev:path`, `rev^{commit}`).

        None when the object does not exist.
        """
        return self.read_many([name])[0]

    def read_many(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        """`read` of each name, asked in batches: one round trip to git per batch."""
        found: list[tuple[str, str, bytes] | None] = [None] * len(names)
        asked = [i for i, name in enumerate(names) if "\n" not in name]
        for start in range(0, len(asked), _BATCH):
            batch = asked[start : start + _BATCH]
            request = b"".join(names[i].encode("utf-8") + b"\n" for i in batch)
            with self._lock:
                stdin, stdout = self._pipes()
                # A batch fits in the pipe, so git never waits on us while we write.
                stdin.write(request)
                stdin.flush()
                for i in batch:
                    found[i] = self._answer(stdout)
        return found

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        process = self._process()
        assert process.stdin is not None and process.stdout is not None
        return process.stdin, process.stdout

    def _answer(self, stdout: IO[bytes]) -> tuple[str, str, bytes] | None:
        header = stdout.readline()
        if not header:
            raise LlmpipeError(f"git cat-file stopped unexpectedly in '{self.root}'")
        parts = header.split()
        if len(parts) != 3:  # "<name> missing" or "ambiguous"
            return None
        content = stdout.read(int(parts[2]))
        stdout.read(1)  # the newline after every object
        return parts[0].decode(), parts[1].decode(), content

    def commits(self, shas: Iterable[str]) -> dict[str, bytes]:
        """{sha: raw commit object} of the commits `shas` git has, read in one request.

        `tree_of` then answers for them without asking git again.
        """
        wanted = list(dict.fromkeys(shas))
        found = {}
        for sha, item in zip(wanted, self.read_many(wanted), strict=True):
            if item is not None and item[1] == "commit":
                found[sha] = item[2]
                if item[2].startswith(b"tree "):
                    self._commit_trees[sha] = item[2][5 : item[2].index(b"\n")].decode()
        return found

    def tree_of(self, commit: str) -> str:
        """The id of the root tree of `commit`; LlmpipeError when git has no such commit."""
        if commit in self._commit_trees:
            return self._commit_trees[commit]
        found = self.read(f"{commit}^{{tree}}")
        if found is None:
            raise LlmpipeError(f"cannot read the files of commit {commit[:10]}")
        return found[0]

    def entries(self, tree: str) -> dict[str, tuple[bytes, str]]:
        """{name: (mode, id)} of the tree object `tree`, read once per session."""
        if tree not in self._entries:
            self._load_trees([tree])
        return self._entries[tree]

    def prefetch_trees(self, trees: Iterable[str]) -> None:
        """Read the tree objects `trees` not read yet in one request (`entries` then answers)."""
        self._load_trees(trees)

    def _load_trees(self, trees: Iterable[str]) -> None:
        wanted = [tree for tree in dict.fromkeys(trees) if tree not in self._entries]
        for tree, found in zip(wanted, self.read_many(wanted), strict=True):
            if found is None or found[1] != "tree":
                raise LlmpipeError(f"git object {tree} is missing; is the clone complete?")
            # The raw id width follows the repository's hash: 20 bytes (sha1) or 32 (sha256).
            self._entries[tree] = {
                name: (mode, oid) for mode, name, oid in _tree_entries(found[2], len(tree) // 2)
            }

    def tree_files(self, tree: str) -> dict[str, str]:
        """{posix path: blob id} of every regular file under `tree` (symlinks, submodules out).

        A tree's subtrees are read in one request; a subtree shared by several
        commits (the usual case across branches) is listed only once.
        """
        cached = self._flat.get(tree)
        if cached is not None:
            return cached
        entries = self.entries(tree)
        self._load_trees(oid for mode, oid in entries.values() if mode == _TREE)
        files: dict[str, str] = {}
        for name, (mode, oid) in entries.items():
            if mode == _TREE:
                files.update((f"{name}/{p}", o) for p, o in self.tree_files(oid).items())
            elif mode in _FILE_MODES:
                files[name] = oid
        self._flat[tree] = files
        return files

    def find(
        self, tree: str, wanted: NamePredicate, enter: FolderPredicate
    ) -> list[tuple[str, str]]:
        """(path, blob id) under `tree` of the files whose name is `wanted`, in folders
        `enter` allows.

        `enter(name, names inside)` decides for each folder below `tree`. The
        answer is kept per subtree, so a commit costs only the folders it changed.
        """
        key = (tree, wanted, enter)
        cached = self._found.get(key)
        if cached is not None:
            return cached
        entries = self.entries(tree)
        self._load_trees(oid for mode, oid in entries.values() if mode == _TREE)
        folders = [
            (name, oid)
            for name, (mode, oid) in entries.items()
            if mode == _TREE and enter(name, self.entries(oid).keys())
        ]
        found = [
            (n, oid) for n, (mode, oid) in entries.items() if mode in _FILE_MODES and wanted(n)
        ]
        for name, tree_id in folders:
            found.extend((f"{name}/{p}", oid) for p, oid in self.find(tree_id, wanted, enter))
        self._found[key] = found
        return found

    def blob(self, oid: str) -> bytes | None:
        """Content of the blob `oid`; small ones are kept, as commits share most files."""
        if oid not in self._blobs:
            self.prefetch([oid])
        return self._blobs.pop(oid, None) if oid in self._unkept else self._blobs.get(oid)

    def prefetch(self, oids: Iterable[str]) -> None:
        """Read the blobs `oids` not read yet in one request; `blob` then answers at once."""
        wanted = [oid for oid in dict.fromkeys(oids) if oid not in self._blobs]
        for oid, found in zip(wanted, self.read_many(wanted), strict=True):
            if found is None:
                continue
            self._blobs[oid] = found[2]
            if len(found[2]) > _KEPT_BLOB_BYTES or self._blob_bytes >= _KEPT_BYTES:
                self._unkept.add(oid)
            else:
                self._blob_bytes += len(found[2])

    def commit_of(self, rev: str) -> str | None:
        """The full sha of the commit `rev` names, or None."""
        found = self.read(f"{rev}^{{commit}}")
        return found[0] if found else None

    def close(self) -> None:
        if self._proc is None:
            return
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
    """The files of one commit, found through its tree objects and read by blob id."""

    def __init__(self, objects: GitObjects, commit: str, prefix: str = "") -> None:
        self.objects = objects
        self.commit = commit
        # A project in a sub-folder of the git work tree sees only that folder.
        self.prefix = prefix.strip("/")
        self._oids: dict[str, str | None] = {}

    @cached_property
    def top(self) -> str | None:
        """The id of the tree of the prefix folder (None when the commit lacks it)."""
        root = self.objects.tree_of(self.commit)
        return self._tree_at(root, self.prefix.split("/")) if self.prefix else root

    def _tree_at(self, tree: str | None, folders: list[str]) -> str | None:
        """The id of the tree at `folders` below `tree`, or None."""
        for name in folders:
            if tree is None:
                return None
            mode, oid = self.objects.entries(tree).get(name, _ABSENT)
            tree = oid if mode == _TREE else None
        return tree

    def paths(self) -> Iterable[str]:
        """Every regular file of the commit (below the prefix), as a posix path."""
        return self.objects.tree_files(self.top).keys() if self.top else ()

    def find(self, wanted: NamePredicate, enter: FolderPredicate) -> list[str]:
        """See `GitObjects.find`; paths are relative to the prefix."""
        found = self.objects.find(self.top, wanted, enter) if self.top else []
        self._oids.update(found)
        return [path for path, _ in found]

    def exists(self, relpath: str) -> bool:
        return self.oid(relpath) is not None

    def oid(self, relpath: str) -> str | None:
        """The blob id of the regular file at `relpath`, or None."""
        if relpath not in self._oids:
            *folders, name = relpath.split("/")
            tree = self._tree_at(self.top, folders)
            mode, oid = self.objects.entries(tree).get(name, _ABSENT) if tree else _ABSENT
            self._oids[relpath] = oid if mode in _FILE_MODES else None
        return self._oids[relpath]

    def parse_once(self, relpath: str, parse: Callable[[RevTree, str], T]) -> T:
        """`parse(self, relpath)`, computed once per blob for every tree of these objects
        (experiments share their dvc.yaml; one revision's lock is read by two readers).

        The result is shared: callers must not change it. Errors are not kept.
        """
        oid = self.oid(relpath)
        if oid is None:
            return parse(self, relpath)
        key = (parse, oid)
        if key not in self.objects.parsed:
            self.objects.parsed[key] = parse(self, relpath)
        return self.objects.parsed[key]  # type: ignore[return-value]

    def prefetch(self, relpaths: Iterable[str]) -> None:
        """Read the files at `relpaths` (those not read yet) from git in one request."""
        self.objects.prefetch(oid for oid in map(self.oid, relpaths) if oid)

    def read_bytes(self, relpath: str) -> bytes | None:
        """Content of the file at `relpath`, or None when the commit has no such file.

        Raises LlmpipeError when the commit lists the file but git lacks its blob.
        """
        oid = self.oid(relpath)
        if oid is None:
            return None
        content = self.objects.blob(oid)
        if content is None:
            raise LlmpipeError(
                f"git object {oid} ('{relpath}' at commit {self.commit[:10]}) is missing;"
                " is the clone complete? ('git fetch' the missing history)"
            )
        return content


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


class FileTree(Protocol):
    """What a reader of project files needs from a tree: a commit's (`RevTree`) or the
    working directory's (`WorkTree`); paths are posix, relative to the project root."""

    @property
    def commit(self) -> str | None: ...

    def exists(self, relpath: str) -> bool: ...

    def read_bytes(self, relpath: str) -> bytes | None: ...


Tree = RevTree | WorkTree


def as_tree(root: str | FileTree) -> FileTree:
    """`root` itself, or the working directory at the path `root`."""
    return WorkTree(root) if isinstance(root, str) else root


def read_text(tree: FileTree, relpath: str) -> str | None:
    """The UTF-8 text of `relpath` in `tree`, None when it has no such file."""
    content = tree.read_bytes(relpath)
    if content is None:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        where = f" at commit {tree.commit[:10]}" if tree.commit else ""
        raise LlmpipeError(f"'{relpath}'{where} is not UTF-8 text") from None


def git_location(root: str) -> tuple[str, str]:
    """(top of the git work tree holding the project `root`, `root`'s posix path in it).

    The second is '' when the project is the top. RevisionError outside git.
    """
    absolute = os.path.abspath(root)
    git_root, inside = scm.git_root(absolute), scm.prefix_in_work_tree(absolute)
    if git_root is None or inside is None:
        raise RevisionError(f"'{absolute}' is not inside a git repository; run 'git init'")
    return git_root, inside


class TreeMemo:
    """Results of reading files of a tree, reused for every tree with the same files.

    `get(read, relpath, tree)` calls `read(tree, relpath)` once per distinct
    content: at a commit it notes the blob of each path `read` looks at, and a
    later commit with the same blobs at those paths gets the result without a
    read. The working directory is always read. Exceptions are not kept.
    """

    def __init__(self) -> None:
        self._results: dict[Hashable, list[tuple[dict[str, str | None], object]]] = {}

    def get(self, read: Callable[[FileTree, str], T], relpath: str, tree: str | Tree) -> T:
        """`read(tree, relpath)`, or its result for an earlier commit with the same files."""
        if not isinstance(tree, RevTree):
            return read(as_tree(tree), relpath)
        bucket = self._results.setdefault((read, relpath, tree.oid(relpath)), [])
        for reads, result in bucket:
            if all(tree.oid(path) == oid for path, oid in reads.items()):
                return result  # type: ignore[return-value]
        recorder = _ReadRecorder(tree)
        result = read(recorder, relpath)
        bucket.append((recorder.reads, result))
        return result


class _ReadRecorder:
    """A `RevTree` that notes the blob id of every path it is asked about."""

    def __init__(self, tree: RevTree) -> None:
        self.tree = tree
        self.reads: dict[str, str | None] = {}

    @property
    def commit(self) -> str:
        return self.tree.commit

    def oid(self, relpath: str) -> str | None:
        self.reads[relpath] = self.tree.oid(relpath)
        return self.reads[relpath]

    def exists(self, relpath: str) -> bool:
        return self.oid(relpath) is not None

    def read_bytes(self, relpath: str) -> bytes | None:
        self.oid(relpath)
        return self.tree.read_bytes(relpath)

    def parse_once(self, relpath: str, parse: Callable[[RevTree, str], T]) -> T:
        self.oid(relpath)  # `parse` reads this one file
        return self.tree.parse_once(relpath, parse)


def parse_once(tree: FileTree, relpath: str, parse: Callable[[FileTree, str], T]) -> T:
    """`parse(tree, relpath)`; at a commit, once per content of the file (`RevTree.parse_once`:
    `parse` must read only `relpath`, and callers must not change the shared result)."""
    if isinstance(tree, RevTree | _ReadRecorder):
        return tree.parse_once(relpath, parse)
    return parse(tree, relpath)


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
