"""What a path names in a source project, and the files it holds.

A path is an output the source records (`data/features`), a file or folder inside
an output directory (`data/features/part-0`), or files git tracks there
(`README.md`, or a folder mixing git files and outputs). Paths are posix,
relative to the source project's root.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

from ..errors import PathMissingError, SourceError
from ..hashing import dir_hash, dir_manifest_bytes
from ..outputs import UsedOutput
from ..revfs import RevTree
from ..stage import HashInfo
from .objects import SourceObjects
from .source import Source


@dataclass(frozen=True)
class Item:
    """`path` in the source: inside output `out` at `sub` ('' for the output itself), or,
    with `out` None, files git tracks."""

    path: str
    out: UsedOutput | None
    sub: str = ""


@dataclass(frozen=True)
class FileEntry:
    """One file of an item: its path below the item, and a cache object or git's bytes."""

    relpath: str  # '' when the item is this one file
    oid: str | None = None
    source_path: str | None = None  # for a git file: its path in the source


def normalized(path: str) -> str:
    """`path` as a posix path relative to the project root ('' for the root)."""
    cleaned = posixpath.normpath(path.replace(os.sep, "/")).lstrip("/")
    if cleaned == ".." or cleaned.startswith("../"):
        raise PathMissingError(f"'{path}' is outside the project")
    return "" if cleaned == "." else cleaned


def find_item(source: Source, path: str) -> Item:
    """The `Item` at `path`; PathMissingError when the source has nothing there."""
    relpath = normalized(path)
    for out in cached_outputs(source):
        if out.path == relpath:
            return Item(relpath, out)
        if out.info.isdir and relpath.startswith(out.path + "/"):
            return Item(relpath, out, relpath[len(out.path) + 1 :])
    if relpath == "" or git_files(source, relpath) or _has_outputs_below(source, relpath):
        return Item(relpath, None)
    raise PathMissingError(
        f"'{path}' is neither tracked by the project at '{source.url}' nor a file git holds "
        f"there{_at(source)}"
    )


def _at(source: Source) -> str:
    return f" (at {source.commit[:10]})" if source.commit and not source.in_workspace else ""


def cached_outputs(source: Source) -> list[UsedOutput]:
    """The outputs whose data is in caches; the others are files git holds."""
    return [out for out in source.outputs if out.cache]


def _has_outputs_below(source: Source, relpath: str) -> bool:
    return any(out.path.startswith(relpath + "/") for out in cached_outputs(source))


def git_files(source: Source, relpath: str) -> list[str]:
    """The files git holds at `relpath`: itself, or every file below it ('' = all)."""
    tree = source.tree
    if relpath and tree.exists(relpath):
        return [relpath]
    if isinstance(tree, RevTree):
        paths = tree.paths()
    else:
        from .. import scm

        assert source.root is not None
        paths = scm.list_files(source.root) or []
    prefix = relpath + "/" if relpath else ""
    outputs = [out.path for out in cached_outputs(source)]
    return [
        p
        for p in paths
        if p.startswith(prefix) and not any(p == o or p.startswith(o + "/") for o in outputs)
    ]


def output_files(item: Item, objects: SourceObjects) -> list[FileEntry]:
    """The files of an output item, as cache objects (the objects are made available)."""
    assert item.out is not None
    info = item.out.info
    what = f"'{item.path}'"
    if not info.isdir:
        objects.require([info.value], what)
        return [FileEntry("", info.value)]
    entries = objects.manifest(info.value, what)
    if item.sub:
        prefix = item.sub + "/"
        inside = [(r[len(prefix) :], o) for r, o in entries if r.startswith(prefix)]
        exact = [o for r, o in entries if r == item.sub]
        entries = [("", exact[0])] if exact else inside
        if not entries:
            raise PathMissingError(f"'{item.path}' is not in output '{item.out.path}'")
    objects.require((oid for _, oid in entries), what)
    return [FileEntry(relpath, oid) for relpath, oid in entries]


def item_files(source: Source, item: Item, objects: SourceObjects) -> list[FileEntry]:
    """Every file `item` holds: an output's objects, or git files and the outputs below."""
    if item.out is not None:
        return output_files(item, objects)
    prefix = item.path + "/" if item.path else ""
    found = [
        FileEntry(p[len(prefix) :] if prefix else p, source_path=p)
        for p in git_files(source, item.path)
    ]
    if found == [FileEntry("", source_path=item.path)]:
        return found
    for out in cached_outputs(source):
        if out.path.startswith(prefix):
            below = out.path[len(prefix) :]
            inner = output_files(Item(out.path, out), objects)
            found.extend(FileEntry(posixpath.join(below, e.relpath), e.oid) for e in inner)
    return found


def import_hash(item: Item, files: list[FileEntry], objects: SourceObjects) -> HashInfo:
    """The hash an import of `item` records (a new `.dir` for part of a directory).

    The objects must be in `objects.into` already (see `SourceObjects.copy_into_cache`).
    """
    if item.out is None:
        raise SourceError(
            f"'{item.path}' is not an output of the project at '{objects.source.url}': "
            "only data it tracks can be imported (use 'llmpipe get' to copy files git holds)"
        )
    odb = objects.into
    sizes = [os.path.getsize(odb.oid_path(e.oid)) for e in files if e.oid]
    if len(files) == 1 and not files[0].relpath:  # a file
        return HashInfo(odb.hash_name, str(files[0].oid), size=sizes[0])
    if not item.sub:
        return HashInfo(odb.hash_name, item.out.info.value, size=sum(sizes), nfiles=len(files))
    data = dir_manifest_bytes(((e.relpath, str(e.oid)) for e in files), odb.hash_name)
    value = dir_hash(data, odb.hash_name)
    odb.add_bytes(value, data)
    return HashInfo(odb.hash_name, value, size=sum(sizes), nfiles=len(files))
