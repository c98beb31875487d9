"""`diff`: which tracked files differ between two revisions, or a revision and the workspace.

dvc's rules (`dvc diff`): the cached outputs of each side, and the files inside
each directory output as its `.dir` manifest lists them, are compared by hash.
A directory whose manifest is not in the cache on one side has unknown
contents: only the directory itself is compared. An added path whose hash
matches a deleted one is a rename. Against the workspace, recorded entries
whose objects the cache lacks are listed as "not in cache".
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..cache.build import build
from ..errors import CacheError, TargetError
from ..outputs import recorded_outputs
from ..revfs import GitObjects, RevTree, git_location
from ..spec import load_stages
from ..stage import HashInfo, Stage

if TYPE_CHECKING:
    from ..project import Project


@dataclass(frozen=True)
class Output:
    """One cached output on one side: its hash (None when never recorded) and files.

    `files` maps paths inside a directory output to their hashes; None when the
    directory's manifest is unknown (not in the cache).
    """

    value: str | None
    isdir: bool = False
    files: dict[str, str] | None = field(default_factory=dict)


Side = dict[str, Output]  # repository-relative output path -> output


@dataclass(frozen=True)
class Change:
    """One difference; `path` ends in `/` for a directory. Renames have `new_path`."""

    path: str
    old: str | None = None
    new: str | None = None
    new_path: str | None = None


@dataclass
class DataDiff:
    added: list[Change] = field(default_factory=list)
    deleted: list[Change] = field(default_factory=list)
    modified: list[Change] = field(default_factory=list)
    renamed: list[Change] = field(default_factory=list)
    not_in_cache: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # files inside a directory of unknown content
    against_workspace: bool = False

    def __bool__(self) -> bool:
        return any((self.added, self.deleted, self.modified, self.renamed, self.not_in_cache))


def data_diff(
    project: Project, a_rev: str = "HEAD", b_rev: str | None = None, targets: Sequence[str] = ()
) -> DataDiff:
    """The data changes from `a_rev` to `b_rev` (default: the workspace).

    `targets` (paths relative to the current directory) narrow the comparison to
    those outputs, or to paths inside them. RevisionError for an unknown
    revision; TargetError for a target neither side tracks.
    """
    from ..compare.revisions import resolve

    git_root, prefix = git_location(project.root)
    with GitObjects(git_root) as objects:
        if a_rev == "HEAD" and objects.commit_of("HEAD") is None:
            return DataDiff()  # no commits yet: nothing to compare, as dvc says
        old_commit = resolve(git_root, objects, a_rev)
        new_commit = resolve(git_root, objects, b_rev) if b_rev else None
        old = _rev_side(project, RevTree(objects, old_commit, prefix))
        if b_rev is None:
            new = workspace_side(project, project.stages())
        elif new_commit == old_commit:
            return DataDiff()
        else:
            new = _rev_side(project, RevTree(objects, new_commit or "", prefix))
    roots = _roots(project, targets, old, new)
    result = compare_sides(old, new, roots)
    if b_rev is None:
        result.against_workspace = True
        result.not_in_cache = not_in_cache(project, old, roots)
    return result


def _rev_side(project: Project, tree: RevTree) -> Side:
    stages = load_stages(tree)
    recorded = {out.path: out.info for out in recorded_outputs(tree, stages) if out.cache}
    return rev_side(project, stages, recorded)


def rev_side(project: Project, stages: list[Stage], recorded: dict[str, HashInfo]) -> Side:
    """The cached outputs of `stages` with the hashes `recorded` for them (None when not);
    a directory's files come from its manifest in the cache."""
    side: Side = {}
    for path in _cached_paths(stages):
        info = recorded.get(path)
        if info is None:
            side[path] = Output(None)
        elif info.isdir:
            side[path] = Output(info.value, True, _manifest(project, info.value))
        else:
            side[path] = Output(info.value)
    return side


def _cached_paths(stages: Iterable[Stage]) -> Iterator[str]:
    for stage in stages:
        for out in stage.cached_outs:
            if stage.in_repo(out.path):
                yield stage.repo_path(out.path)


def _manifest(project: Project, value: str) -> dict[str, str] | None:
    try:
        return dict(project.odb.read_manifest(value))
    except CacheError:
        return None  # not in the cache: the directory's files are unknown


def workspace_side(project: Project, stages: Iterable[Stage]) -> Side:
    """The cached outputs of `stages` as they are in the workspace, hashed through the
    state DB; outputs absent from the workspace are left out."""
    side: Side = {}
    for path in _cached_paths(stages):
        absolute = os.path.join(project.root, path)
        if not os.path.lexists(absolute):
            continue
        info, manifest = build(absolute, project.config.hash_name, project.state)
        files = {rel: value for rel, value, _, _ in manifest.entries} if manifest else {}
        side[path] = Output(info.value, info.isdir, files)
    return side


def compare_sides(old: Side, new: Side, roots: list[str] | None = None) -> DataDiff:
    """Added, deleted, modified and renamed paths from `old` to `new` (within `roots`).

    Also the unchanged paths, and the files of a directory whose content one
    side does not know (`unknown`, those the new side has).
    """
    result = DataDiff()
    added: list[tuple[str, str | None]] = []
    deleted: list[tuple[str, str | None]] = []
    for path, before, after, unknown in _entries(old, new):
        if roots is not None and not _under(path.rstrip("/"), roots):
            continue
        if unknown:
            if after is not None:
                result.unknown.append(path)
        elif before == after:
            result.unchanged.append(path)
        elif before is None:
            added.append((path, after[0] if after else None))
        elif after is None:
            deleted.append((path, before[0]))
        else:
            result.modified.append(Change(_old_path(path, before), before[0], after[0]))
    _pair_renames(result, added, deleted)
    for changes in (result.added, result.deleted, result.modified, result.renamed):
        changes.sort(key=lambda c: c.path)
    return result


Entry = tuple[str | None, bool]  # (hash, is a directory)


def _entries(old: Side, new: Side) -> Iterator[tuple[str, Entry | None, Entry | None, bool]]:
    """(path, old entry, new entry, unknown) of every output and file inside one.

    The files of a directory one side cannot list come with `unknown` set.
    """
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        yield (
            _shown(path, before, after),
            (before.value, before.isdir) if before else None,
            (after.value, after.isdir) if after else None,
            False,
        )
        unknown = _unknown(before) or _unknown(after)
        old_files = (before.files if before and before.isdir else {}) or {}
        new_files = (after.files if after and after.isdir else {}) or {}
        for rel in sorted(old_files.keys() | new_files.keys()):
            a, b = old_files.get(rel), new_files.get(rel)
            yield f"{path}/{rel}", (a, False) if a else None, (b, False) if b else None, unknown


def _unknown(output: Output | None) -> bool:
    return output is not None and output.isdir and output.files is None


def _shown(path: str, before: Output | None, after: Output | None) -> str:
    """A directory's path ends in `/`: the new side's kind decides, as dvc's does."""
    isdir = (after or before).isdir if (after or before) else False  # type: ignore[union-attr]
    return path + "/" if isdir else path


def _old_path(path: str, before: Entry) -> str:
    """dvc names a modified entry by its old path (a file turned directory stays a file)."""
    bare = path.rstrip("/")
    return bare + "/" if before[1] else bare


def _pair_renames(
    result: DataDiff, added: list[tuple[str, str | None]], deleted: list[tuple[str, str | None]]
) -> None:
    """An added path with the hash of a deleted one is a rename (first with first, by path)."""
    by_hash: dict[str | None, deque[str]] = defaultdict(deque)
    for path, value in sorted(deleted, key=_key_order):
        by_hash[value].append(path)
    for path, value in sorted(added, key=_key_order):
        queue = by_hash.get(value) if value else None
        if queue:
            result.renamed.append(Change(queue.popleft(), value, value, new_path=path))
        else:
            result.added.append(Change(path, None, value))
    for value, paths in by_hash.items():
        result.deleted.extend(Change(path, value) for path in paths)


def _key_order(item: tuple[str, str | None]) -> tuple[str, ...]:
    return tuple(item[0].rstrip("/").split("/"))


def not_in_cache(project: Project, old: Side, roots: list[str] | None) -> list[Change]:
    """Recorded entries of `old` (within `roots`) whose objects the cache lacks."""
    missing = []
    for path, output in old.items():
        if output.value is None:
            continue
        entries = [(path + ("/" if output.isdir else ""), output.value)]
        entries += [(f"{path}/{rel}", value) for rel, value in (output.files or {}).items()]
        for shown, value in entries:
            if roots is not None and not _under(shown.rstrip("/"), roots):
                continue
            if not project.odb.exists(value):
                missing.append(Change(shown, value))
    return sorted(missing, key=lambda c: c.path)


def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _roots(project: Project, targets: Sequence[str], old: Side, new: Side) -> list[str] | None:
    """Repository-relative paths the targets name; TargetError for one neither side tracks."""
    if not targets:
        return None
    roots = []
    for target in targets:
        relpath = os.path.relpath(os.path.abspath(target), project.root).replace(os.sep, "/")
        relpath = posixpath.normpath(relpath)
        if relpath.endswith(".dvc") and relpath[:-4] in (old.keys() | new.keys()):
            relpath = relpath[:-4]
        if not any(_tracks(side, relpath) for side in (old, new)):
            raise TargetError(f"'{target}' is not a tracked output nor a path inside one")
        roots.append(relpath)
    return roots


def _tracks(side: Side, relpath: str) -> bool:
    for path, output in side.items():
        if relpath == path or path.startswith(relpath + "/"):
            return True
        if relpath.startswith(path + "/") and output.files is not None:
            inner = relpath[len(path) + 1 :]
            if inner in output.files or any(f.startswith(inner + "/") for f in output.files):
                return True
    return False
