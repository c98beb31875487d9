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
class _File:
    isout: bool
    md5: str | None
    size: int | None
    isexec: bool = False


def list_path(
    source: Source, objects: SourceObjects, path: str = "", recursive: bool = False,
    dvc_only: bool = False,
) -> list[LsEntry]:  # fmt: skip
    """The entries at `path` (a folder: its children; a file: itself), sorted by path.

    `recursive` lists every file below instead (paths relative to `path`);
    `dvc_only` keeps outputs only. PathMissingError when there is nothing at `path`.
    """
    relpath = normalized(path)
    listing = _Listing(source, objects)
    listing.expand_outputs(relpath, recursive)
    if relpath in listing.files:
        found = [listing.file_entry(relpath, posixpath.basename(relpath))]
    elif relpath and not listing.is_folder(relpath):
        raise PathMissingError(f"'{path}' does not exist in '{source.url}'")
    elif recursive:
        found = listing.files_below(relpath)
    else:
        found = listing.children(relpath)
    return [e for e in found if e.isout or not dvc_only]


class _Listing:
    """Every file of the source as `_File`s, output directories kept folded until asked."""

    def __init__(self, source: Source, objects: SourceObjects) -> None:
        self.source = source
        self.objects = objects
        self.dirouts: dict[str, HashInfo] = {}
        self.files: dict[str, _File] = {}
        outs = cached_outputs(source)
        for out in outs:
            if out.info.isdir:
                self.dirouts[out.path] = out.info
            else:
                self.files[out.path] = _File(True, out.info.value, self._size(out.path, out.info))
        skipped = {out.path for out in outs}
        for relpath in self._git_paths(skipped):
            self.files.setdefault(relpath, _File(False, None, self._file_size(relpath)))

    def _git_paths(self, outputs: set[str]) -> list[str]:
        tree = self.source.tree
        if isinstance(tree, RevTree):
            return [p for p in tree.paths() if p.split("/")[0] not in _HIDDEN]
        assert self.source.root is not None
        return list(_walk(self.source.root, "", outputs))

    def _size(self, relpath: str, info: HashInfo | None) -> int | None:
        if self.source.in_workspace:
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
                    size = self._size(full, None) if self.source.in_workspace else None
                    self.files[full] = _File(True, oid, size)

    def is_folder(self, relpath: str) -> bool:
        prefix = relpath + "/"
        return relpath in self.dirouts or any(p.startswith(prefix) for p in self.files)

    def file_entry(self, relpath: str, shown: str) -> LsEntry:
        f = self.files[relpath]
        return LsEntry(f.isout, False, f.isexec, f.size, f.md5, shown)

    def files_below(self, relpath: str) -> list[LsEntry]:
        prefix = relpath + "/" if relpath else ""
        return [
            self.file_entry(p, p[len(prefix) :]) for p in sorted(self.files) if p.startswith(prefix)
        ]

    def children(self, relpath: str) -> list[LsEntry]:
        prefix = relpath + "/" if relpath else ""
        names: dict[str, bool] = {}  # name -> is a folder
        for p in [*self.files, *self.dirouts]:
            if p.startswith(prefix):
                name, _, rest = p[len(prefix) :].partition("/")
                names[name] = names.get(name, False) or bool(rest) or prefix + name in self.dirouts
        entry = {True: self._folder_entry, False: self.file_entry}
        return [entry[folder](prefix + name, name) for name, folder in sorted(names.items())]

    def _folder_entry(self, relpath: str, shown: str) -> LsEntry:
        info = self.dirouts.get(relpath)
        inside = any(relpath.startswith(d + "/") for d in self.dirouts)
        if info is not None:
            return LsEntry(True, True, False, self._size(relpath, info), info.value, shown)
        if inside:
            size = self._size(relpath, None) if self.source.in_workspace else None
            return LsEntry(True, True, False, size, None, shown)
        return LsEntry(False, True, False, self._folder_size(relpath), None, shown)

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
