"""`ls`: the files and folders of a source project, git's and its outputs', as dvc lists them.

At a revision the files are git's at that commit plus the outputs its dvc files
record; a local folder without a revision is read as it stands on disk (dvc lists
the working directory, sizes as `stat` gives them). The contents of an output
directory come from its `.dir` manifest (fetched when the caches lack it), with no
sizes at a revision, as dvc shows them. `.git` and `.dvc` are never listed.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import PathMissingError
from ..revfs import RevTree
from ..stage import HashInfo
from .items import cached_outputs, normalized
from .objects import SourceObjects
from .source import Source

_HIDDEN = (".git", ".dvc")


@dataclass(frozen=True)
class LsEntry:
    """One row of `ls --json`, in dvc's key order."""

    isout: bool
    isdir: bool
    isexec: bool
    size: int | None
    md5: str | None
    path: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LsNode:
    """One row of `ls --tree`: the entry and, for a folder listed, its children in order."""

    entry: LsEntry
    contents: list[LsNode] | None = None


@dataclass(frozen=True)
class _File:
    isout: bool
    md5: str | None
    size: int | None
    recorded: int | None = None  # the size the dvc file or .dir manifest gives, if any
    isexec: bool = False


def list_path(
    source: Source, objects: SourceObjects, path: str = "", recursive: bool = False,
    dvc_only: bool = False, maxdepth: int | None = None,
) -> list[LsEntry]:  # fmt: skip
    """The entries at `path` (a folder: its children; a file: itself), sorted by path.

    `recursive` lists every file below instead (paths relative to `path`), down to
    `maxdepth` levels with the folders at the last level listed as entries (dvc's
    `-R -L`; 0 lists `path` itself); `dvc_only` keeps outputs and the folders holding
    some. PathMissingError when there is nothing at `path`.
    """
    relpath = normalized(path)
    listing = _Listing(source, objects)
    listing.expand_outputs(relpath, recursive)
    # `path` itself (a file, or anything at depth 0) is shown as it is, even with `dvc_only`
    if relpath in listing.files:
        return [listing.file_entry(relpath, posixpath.basename(relpath))]
    if relpath and not listing.is_folder(relpath):
        raise PathMissingError(f"'{path}' does not exist in '{source.url}'")
    if recursive and maxdepth == 0:
        return [listing.folder_entry(relpath, posixpath.basename(relpath) or ".")]
    listing.dvc_side = dvc_only
    found = _below(listing, relpath, recursive, maxdepth)
    return [e for e in found if not dvc_only or listing.holds_outputs(relpath, e)]


def _below(listing: _Listing, relpath: str, recursive: bool, maxdepth: int | None) -> list[LsEntry]:
    if recursive:
        return listing.files_below(relpath, maxdepth)
    return listing.children(relpath)


def tree_path(
    source: Source, objects: SourceObjects, path: str = "", dvc_only: bool = False,
    maxdepth: int | None = None,
) -> LsNode:  # fmt: skip
    """`path` as dvc's `ls --tree` shows it: itself (named as given, '.' for the top),
    then its folders' contents, `maxdepth` levels down (all without it)."""
    relpath = normalized(path)
    listing = _Listing(source, objects)
    listing.expand_outputs(relpath, True)
    if relpath in listing.files:
        return LsNode(listing.file_entry(relpath, path))
    if relpath and not listing.is_folder(relpath):
        raise PathMissingError(f"'{path}' does not exist in '{source.url}'")
    root = listing.folder_entry(relpath, path or ".")
    listing.dvc_side = dvc_only
    return listing.tree(relpath, root, maxdepth, dvc_only)


class _Listing:
    """Every file of the source as `_File`s, output directories kept folded until asked."""

    def __init__(self, source: Source, objects: SourceObjects) -> None:
        self.source = source
        self.objects = objects
        self.dirouts: dict[str, HashInfo] = {}
        self.dvc_side = False  # entries as dvc's `--dvc-only` shows them (see `_on_disk`)
        self.files: dict[str, _File] = {}
        outs = cached_outputs(source)
        for out in outs:
            if out.info.isdir:
                self.dirouts[out.path] = out.info
            else:
                size = self._size(out.path, out.info)
                self.files[out.path] = _File(True, out.info.value, size, out.info.size)
        skipped = {out.path for out in outs}
        for relpath in self._git_paths(skipped):
            self.files.setdefault(relpath, _File(False, None, self._file_size(relpath)))

    def _git_paths(self, outputs: set[str]) -> list[str]:
        tree = self.source.tree
        if isinstance(tree, RevTree):
            return [p for p in tree.paths() if p.split("/")[0] not in _HIDDEN]
        assert self.source.root is not None
        return list(_walk(self.source.root, "", outputs))

    @property
    def _on_disk(self) -> bool:
        """Whether sizes come from the files on disk: dvc's `--dvc-only` takes the
        recorded ones even in a working directory."""
        return self.source.in_workspace and not self.dvc_side

    def _size(self, relpath: str, info: HashInfo | None) -> int | None:
        if self._on_disk:
            on_disk = self._stat(relpath)
            if on_disk is not None:
                return on_disk.st_size
        return info.size if info else None

    def _stat(self, relpath: str) -> os.stat_result | None:
        assert self.source.root is not None
        try:
            return os.stat(os.path.join(self.source.root, relpath))
        except OSError:
            return None

    def _file_size(self, relpath: str) -> int | None:
        if self.source.in_workspace:
            return self._size(relpath, None)
        content = self.source.tree.read_bytes(relpath)
        return None if content is None else len(content)

    def expand_outputs(self, relpath: str, recursive: bool) -> None:
        """Unfold the output directories `relpath` lists (all below it when `recursive`)."""
        for out_path, info in list(self.dirouts.items()):
            inside = relpath == out_path or relpath.startswith(out_path + "/")
            below = not relpath or out_path.startswith(relpath + "/")
            if inside or (recursive and below):
                for entry, oid in self.objects.manifest(info.value, f"'{out_path}'"):
                    full = f"{out_path}/{entry}"
                    size = self._size(full, None) if self._on_disk else None
                    self.files[full] = _File(True, oid, size)

    def is_folder(self, relpath: str) -> bool:
        prefix = relpath + "/"
        return relpath in self.dirouts or any(p.startswith(prefix) for p in self.files)

    def file_entry(self, relpath: str, shown: str) -> LsEntry:
        f = self.files[relpath]
        size = f.recorded if self.dvc_side and f.isout else f.size
        return LsEntry(f.isout, False, f.isexec, size, f.md5, shown)

    def files_below(self, relpath: str, maxdepth: int | None = None) -> list[LsEntry]:
        """Every file below `relpath`; with `maxdepth`, those at most that deep plus the
        folders exactly that deep (dvc lists them instead of descending)."""
        prefix = relpath + "/" if relpath else ""
        shown: dict[str, LsEntry] = {}
        for p in self.files:
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix) :].split("/")
            if maxdepth is None or len(parts) <= maxdepth:
                shown[p] = self.file_entry(p, p[len(prefix) :])
            elif prefix + "/".join(parts[:maxdepth]) not in shown:
                folder = prefix + "/".join(parts[:maxdepth])
                shown[folder] = self.folder_entry(folder, folder[len(prefix) :])
        return [shown[p] for p in sorted(shown)]

    def holds_outputs(self, relpath: str, entry: LsEntry) -> bool:
        """Whether `entry` (listed below `relpath`) is an output or a folder holding one."""
        if entry.isout:
            return True
        prefix = posixpath.join(relpath, entry.path) + "/"
        outputs = [*self.dirouts, *(p for p, f in self.files.items() if f.isout)]
        return entry.isdir and any(p.startswith(prefix) for p in outputs)

    def tree(self, relpath: str, entry: LsEntry, maxdepth: int | None, dvc_only: bool) -> LsNode:
        """`entry` (at `relpath`) with its children, `maxdepth` levels down."""
        if not entry.isdir or maxdepth == 0:
            return LsNode(entry)
        depth = None if maxdepth is None else maxdepth - 1
        prefix = relpath + "/" if relpath else ""
        contents = [
            self.tree(prefix + child.path, child, depth, dvc_only)
            for child in self.children(relpath)
            if not dvc_only or self.holds_outputs(relpath, child)
        ]
        return LsNode(entry, contents)

    def children(self, relpath: str) -> list[LsEntry]:
        prefix = relpath + "/" if relpath else ""
        names: dict[str, bool] = {}  # name -> is a folder
        for p in [*self.files, *self.dirouts]:
            if p.startswith(prefix):
                name, _, rest = p[len(prefix) :].partition("/")
                names[name] = names.get(name, False) or bool(rest) or prefix + name in self.dirouts
        entry = {True: self.folder_entry, False: self.file_entry}
        return [entry[folder](prefix + name, name) for name, folder in sorted(names.items())]

    def folder_entry(self, relpath: str, shown: str) -> LsEntry:
        info = self.dirouts.get(relpath)
        inside = any(relpath.startswith(d + "/") for d in self.dirouts)
        if info is not None:
            return LsEntry(True, True, False, self._size(relpath, info), info.value, shown)
        if inside:
            size = self._size(relpath, None) if self._on_disk else None
            return LsEntry(True, True, False, size, None, shown)
        size = None if self.dvc_side else self._folder_size(relpath)
        return LsEntry(False, True, False, size, None, shown)

    def _folder_size(self, relpath: str) -> int | None:
        """dvc's size of a folder: `stat`'s on disk, the git tree object's at a commit."""
        tree = self.source.tree
        if not isinstance(tree, RevTree):
            return self._size(relpath, None)
        prefix = f"{tree.prefix}/" if tree.prefix else ""
        found = tree.objects.read(f"{tree.commit}:{prefix}{relpath}")
        return len(found[2]) if found else None


def _walk(root: str, rel: str, outputs: set[str]) -> list[str]:
    """Files on disk below `root/rel`, not descending into outputs or hidden folders."""
    found = []
    with os.scandir(os.path.join(root, rel) if rel else root) as entries:
        for entry in entries:
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            if relpath in outputs or (not rel and entry.name in _HIDDEN):
                continue
            if entry.is_dir(follow_symlinks=False):
                found.extend(_walk(root, relpath, outputs))
            else:
                found.append(relpath)
    return found
