"""`add`: track files and directories outside stages with `.dvc` files, as `dvc add` does.

Every target is checked before anything is written, with dvc's refusals: a
`dvc.yaml` or `.dvc` file, a path inside a symlinked directory, a path git tracks,
a path a stage produces, a directory holding tracked outputs. Adding a path
that is tracked already updates its `.dvc` file in place (comments and other
fields kept); adding a path inside a tracked directory updates that directory's
`.dir` and `.dvc` file (or drops the entry, for a path deleted since), as dvc does.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import scm
from ..cache.save import save
from ..errors import CacheError, SpecError
from ..fsutil import is_inside
from ..gitignore import ignore_output
from ..hashing import dir_hash, dir_manifest_bytes
from ..pathguard import PathGuard, protected_component
from ..run.repolock import repo_lock
from ..stage import HashInfo, Stage
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..progress import Progress
    from ..project import Project

SYMLINK_LINK = "https://dvc.org/doc/user-guide/troubleshooting#add-symlink"


@dataclass(frozen=True)
class Added:
    path: str
    dvcfile: str
    hash_info: HashInfo
    gitignore: str | None = None  # the .gitignore that got an entry, if any


def describe_added(added: list[Added]) -> tuple[Targets, Outcome]:
    return [{"path": a.path, "hash": a.hash_info.value} for a in added], Outcome()


@dataclass(frozen=True)
class _Target:
    """One path to add, and the `.dvc` output that already tracks it (or a folder above it)."""

    relpath: str
    owner: Stage | None = None
    out_path: str | None = None  # the owner's output, as the `.dvc` file writes it

    @property
    def tracked_at(self) -> str | None:
        """The repository path of the owner's output."""
        return self.owner.repo_path(self.out_path) if self.owner and self.out_path else None


@audited("add", describe=describe_added)
def add(project: Project, paths: Sequence[str], progress: Progress | None = None) -> list[Added]:
    """Track files or directories with `.dvc` files, saving them to the cache.

    SpecError (nothing written) for a path dvc refuses; CacheError when a tracked
    directory to update has no `.dir` in the cache.
    """
    stages = project.stages()
    targets = [_target(project, stages, path) for path in paths]
    guard = PathGuard(project.root)
    for target in targets:
        guard.check_output(os.path.join(project.root, target.relpath))  # save links back
    with repo_lock(project.tmp_dir):
        return [_add_one(project, target, progress) for target in targets]


def _target(project: Project, stages: list[Stage], path: str) -> _Target:
    """The checked target for `path`; SpecError with dvc's reason when dvc refuses it."""
    relpath = _repo_relpath(project, path)
    _refuse_dvc_file(relpath)
    _refuse_symlinked_dir(project.root, relpath)
    target = _owned(stages, relpath)
    if target.owner is None and not os.path.lexists(os.path.join(project.root, relpath)):
        raise SpecError(f"'{path}' does not exist")
    if target.owner is None or target.tracked_at == relpath:
        _refuse_tracked_by_git(project.root, relpath)
    if target.owner is None:
        _refuse_overlap(stages, relpath)
    return target


def _repo_relpath(project: Project, path: str) -> str:
    absolute = os.path.abspath(path)
    if not is_inside(absolute, project.root) or absolute == project.root:
        raise SpecError(f"'{path}' is outside the project at '{project.root}'")
    relpath = os.path.relpath(absolute, project.root).replace(os.sep, "/")
    if protected_component(relpath) is not None:
        raise SpecError(f"'{path}' is inside llmpipe's or git's own folders; it cannot be added")
    return relpath


def _refuse_dvc_file(relpath: str) -> None:
    name = posixpath.basename(relpath)
    if name == "dvc.yaml" or name.endswith(".dvc"):
        raise SpecError(f"DVC file '{name}' cannot be an output.")


def _refuse_symlinked_dir(root: str, relpath: str) -> None:
    """dvc adds nothing below a symlinked folder (nor a symlink to a folder)."""
    absolute = os.path.join(root, relpath)
    folder = os.path.dirname(absolute)
    linked = os.path.isdir(absolute) and os.path.islink(absolute)
    while not linked and folder != root and is_inside(folder, root):
        linked = os.path.islink(folder)
        folder = os.path.dirname(folder)
    if linked:
        # dvc's reason; and the danger, when the link leads out of the project.
        outside = not is_inside(os.path.realpath(absolute), os.path.realpath(root))
        where = f" ('{relpath}' leads outside the project)" if outside else ""
        raise SpecError(
            f"Cannot add files inside symlinked directories to DVC{where}. "
            f"See <{SYMLINK_LINK}> for more information."
        )


def _refuse_tracked_by_git(root: str, relpath: str) -> None:
    if scm.is_tracked(root, relpath):
        raise SpecError(
            f"output '{relpath}' is already tracked by SCM (e.g. Git).\n"
            "    You can remove it from Git, then add to DVC.\n"
            "        To stop tracking from Git:\n"
            f"            git rm -r --cached '{relpath}'\n"
            f'            git commit -m "stop tracking {relpath}"'
        )


def _owned(stages: list[Stage], relpath: str) -> _Target:
    """The output equal to `relpath` or a folder above it; SpecError if a stage makes it."""
    for stage in stages:
        for out in stage.outs:
            tracked = stage.repo_path(out.path)
            if tracked != relpath and not relpath.startswith(tracked + "/"):
                continue
            if not stage.is_data_source:
                raise SpecError(
                    f"cannot update '{relpath}': overlaps with an output of stage:"
                    f" '{stage.name}' in '{stage.dvcfile}'.\n"
                    "Run the pipeline ('llmpipe repro') to update it."
                )
            return _Target(relpath, stage, out.path)
    return _Target(relpath)


def _refuse_overlap(stages: list[Stage], relpath: str) -> None:
    """A new directory may not hold outputs tracked already."""
    for stage in stages:
        for out in stage.outs:
            inside = stage.repo_path(out.path)
            if inside.startswith(relpath + "/"):
                undo = f"delete '{stage.dvcfile}'" if stage.is_data_source else "remove it"
                raise SpecError(
                    f"Cannot add '{relpath}', because it is overlapping with other DVC"
                    f" tracked output: '{inside}'.\nTo include '{inside}' in '{relpath}',"
                    f" {undo} and then run 'llmpipe add {relpath}'"
                )


def _add_one(project: Project, target: _Target, progress: Progress | None) -> Added:
    if target.owner is None:
        out_relpath, dvcfile = target.relpath, target.relpath + ".dvc"
        out_path = posixpath.basename(target.relpath)
        info = _save(project, target.relpath, progress)
    else:
        out_relpath, dvcfile = target.tracked_at or "", target.owner.dvcfile
        out_path = target.out_path or ""
        if out_relpath == target.relpath:
            info = _save(project, target.relpath, progress)
        else:
            info = _update_directory(project, target, progress)
    from ..spec import update_dvcfile

    update_dvcfile(project.root, dvcfile, out_path, info)
    gitignore = ignore_output(project.root, out_relpath)
    project.links.record([out_relpath])
    written = posixpath.join(posixpath.dirname(out_relpath), ".gitignore") if gitignore else None
    return Added(out_relpath, dvcfile, info, written)


def _save(project: Project, relpath: str, progress: Progress | None) -> HashInfo:
    return save(
        os.path.join(project.root, relpath),
        project.odb,
        project.state,
        project.config.link_types,
        progress,
        ignore=project.ignore,
    )


def _update_directory(project: Project, target: _Target, progress: Progress | None) -> HashInfo:
    """The tracked directory's new hash with `target.relpath` added, replaced or dropped.

    As dvc: the size is kept (or grown) when entries were only added or nothing
    changed, and left out otherwise.
    """
    from ..spec import read_dvcfile_hashes

    assert target.owner is not None and target.out_path is not None
    old = read_dvcfile_hashes(project.root, target.owner.dvcfile).get(target.out_path)
    entries = dict(_manifest(project, target, old))
    sub = target.relpath[len(target.tracked_at or "") + 1 :]
    replaced = [rel for rel in entries if rel == sub or rel.startswith(sub + "/")]
    for rel in replaced:
        del entries[rel]
    added_size = None
    if os.path.lexists(os.path.join(project.root, target.relpath)):
        info = _save(project, target.relpath, progress)
        entries.update(_entries_of(project, sub, info))
        added_size = info.size
    elif not replaced:
        raise SpecError(f"'{target.relpath}' does not exist")
    return _directory_info(project, old, sorted(entries.items()), replaced, added_size)


def _manifest(project: Project, target: _Target, old: HashInfo | None) -> list[tuple[str, str]]:
    if old is None:
        return []
    try:
        return project.odb.read_manifest(old.value)
    except CacheError:
        raise CacheError(
            f"cannot update '{target.tracked_at}': its directory object {old.value} is not in"
            f" the cache; fetch it first ('llmpipe fetch {target.owner.dvcfile}')"  # type: ignore[union-attr]
        ) from None


def _entries_of(project: Project, sub: str, info: HashInfo) -> list[tuple[str, str]]:
    if not info.isdir:
        return [(sub, info.value)]
    return [(f"{sub}/{rel}", value) for rel, value in project.odb.read_manifest(info.value)]


def _directory_info(
    project: Project,
    old: HashInfo | None,
    entries: list[tuple[str, str]],
    replaced: list[str],
    added_size: int | None,
) -> HashInfo:
    name = project.odb.hash_name
    data = dir_manifest_bytes(entries, name)
    value = dir_hash(data, name)
    project.odb.add_bytes(value, data)
    size = None
    if old is not None and old.size and not replaced and added_size is not None:
        size = old.size + added_size
    elif old is not None and old.value == value:
        size = old.size
    return HashInfo(name, value, size=size, nfiles=len(entries))
