"""Data from other projects: `get` (a copy), `import` (a tracked, frozen copy), `update`.

The source is a git repository holding an llmpipe or DVC project (see
`external.source`); its data comes from a cache at hand or its remote. `import`
and `update` hold the repository lock, save the data in this project's cache,
check it out, and write the `.dvc` file as dvc writes it; both are audited.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..cache.checkout import checkout
from ..cache.odb import ObjectDB
from ..errors import LlmpipeError, PathMissingError, SourceError, SpecError
from ..external.items import FileEntry, Item, find_item, import_hash, item_files
from ..external.objects import SourceObjects
from ..external.source import Source, open_source
from ..gitignore import ignore_output
from ..pathguard import PathGuard
from ..run.repolock import repo_lock
from ..spec import read_dvcfile_hash
from ..spec.imports import import_body, read_import
from ..stage import HashInfo, Stage
from .audit import Outcome, Targets, audited
from .import_url import (
    Imported,
    describe_imported,
    fetch_recorded,
    recorded_hashes,
    update_url,
    write_in_place,
)

if TYPE_CHECKING:
    from ..project import Project


# -- get ---------------------------------------------------------------------


def get(
    url: str, path: str, out: str | None = None, rev: str | None = None, force: bool = False,
    remote: str | None = None, jobs: int | None = None,
) -> str:  # fmt: skip
    """Copy `path` of the project at `url` (at `rev`) to `out` (default: its name here),
    downloading `jobs` objects at a time from its remote.

    Works outside any project; nothing is tracked. Returns where it was written.
    LlmpipeError when `out` exists (unless `force`) or the data cannot be had.
    """
    with open_source(url, rev) as source, scratch_objects(source, remote, jobs) as objects:
        item = find_item(source, path)
        dest = _destination(out, item.path or _repo_name(url))
        if os.path.lexists(dest) and not force:
            raise LlmpipeError(f"'{dest}' already exists; pass --force to replace it")
        files = item_files(source, item, objects)
        _write_files(source, objects, files, dest)
    return dest


def get_url(url: str, path: str, rev: str | None = None, remote: str | None = None) -> str:
    """Where the object of `path` (an output, or a file inside an output directory) of the
    project at `url` lives on its remote (`remote`, default its default), as dvc's
    `get --show-url` prints it. Whether the object is really there is not checked."""
    from ..remote.layout import Layout

    with open_source(url, rev) as source, scratch_objects(source, remote) as objects:
        item = find_item(source, path)
        if item.out is None:
            raise SourceError(f"'{path}' is not an output of the project at '{url}'")
        oid = _object_of(item, objects)
        config = source.remote(remote)
        if config.encrypt:
            raise SourceError(
                f"remote '{config.name}' of '{url}' is encrypted: its objects have no URL to show"
            )
        # Layout names objects without touching the storage, so no backend is opened
        return f"{config.url.rstrip('/')}/{Layout(None, 'md5').path(oid)}"  # type: ignore[arg-type]


def _object_of(item: Item, objects: SourceObjects) -> str:
    """The object id of an output, or of one file inside an output directory."""
    assert item.out is not None
    if not item.sub:
        return item.out.info.value
    for relpath, oid in objects.manifest(item.out.info.value, f"'{item.out.path}'"):
        if relpath == item.sub:
            return oid
    raise PathMissingError(f"'{item.path}' is not a file of output '{item.out.path}'")


def _destination(out: str | None, source_path: str) -> str:
    name = posixpath.basename(source_path.rstrip("/"))
    if out is None:
        return name
    return os.path.join(out, name) if os.path.isdir(out) else out


def _repo_name(url: str) -> str:
    return posixpath.basename(url.rstrip("/")).removesuffix(".git")


@contextlib.contextmanager
def scratch_objects(
    source: Source, remote: str | None = None, jobs: int | None = None
) -> Iterator[SourceObjects]:
    """Objects of `source`, fetched (when no cache has them) into a scratch cache."""
    folder = tempfile.mkdtemp(prefix="llmpipe-get-")
    try:
        odb = ObjectDB(os.path.join(folder, "files", "md5"))
        yield SourceObjects(source, odb, os.path.join(folder, "tmp"), remote, jobs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write_files(source: Source, objects: SourceObjects, files: list[FileEntry], dest: str) -> None:
    """Write `files` as `dest` (a file, or a folder holding them), appearing at once."""
    parent = os.path.dirname(os.path.abspath(dest))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".llmpipe-get-", dir=parent)
    try:
        made: set[str] = set()
        for entry in files:
            target = (
                os.path.join(tmp, "out", *entry.relpath.split("/"))
                if entry.relpath
                else (os.path.join(tmp, "out"))
            )
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            _write_one(source, objects, entry, target)
        if not files:
            os.makedirs(os.path.join(tmp, "out"))
        if os.path.lexists(dest):
            _remove(dest)
        os.rename(os.path.join(tmp, "out"), dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_one(source: Source, objects: SourceObjects, entry: FileEntry, target: str) -> None:
    if entry.oid is not None:
        found = objects.path(entry.oid)
        assert found is not None  # item_files made every object available
        shutil.copyfile(found, target)
        return
    assert entry.source_path is not None
    content = source.tree.read_bytes(entry.source_path)
    if content is None:
        raise LlmpipeError(f"'{entry.source_path}' vanished from '{source.url}'")
    with open(target, "wb") as handle:
        handle.write(content)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


# -- import and update ------------------------------------------------------------


@dataclass(frozen=True)
class ImportFlags:
    """`import`'s flags beyond the source (dvc's, same names)."""

    remote: str | None = None  # the source's remote to fetch from
    jobs: int | None = None  # parallel downloads
    force: bool = False  # replace what is at the output path
    no_exec: bool = False  # record the source only: no commit, no hashes, no data
    no_download: bool = False  # record the commit, download nothing


@audited("import", describe=describe_imported)
def import_(
    project: Project, url: str, path: str, out: str | None = None, rev: str | None = None,
    flags: ImportFlags = ImportFlags(),
) -> list[Imported]:  # fmt: skip
    """Import `path` of the project at `url` into this one, tracked by a frozen `.dvc` file.

    SpecError for refused flags and an output or `.dvc` file in the way (unless
    `force`); the source's errors when it cannot be read.
    """
    if flags.no_exec and flags.no_download:
        raise SpecError("--no-exec and --no-download cannot be used together")
    target = _repo_relpath(project, _destination(out, path))
    dvcfile = target + ".dvc"
    repo: dict[str, Any] = {"url": url, **({"rev": rev} if rev else {})}
    dep = {"path": path, "repo": repo}
    with repo_lock(project.tmp_dir):
        if not flags.force:
            _refuse_existing(project, path, url, target, dvcfile)
        if flags.no_exec or flags.no_download:
            return [_record_import(project, dvcfile, target, dep, flags.no_download)]
        return [_fetch_import(project, dvcfile, target, dep, rev, flags.remote, flags.jobs)]


def _refuse_existing(project: Project, path: str, url: str, target: str, dvcfile: str) -> None:
    failed = f"failed to import '{path}' from '{url}'. - "
    if os.path.lexists(os.path.join(project.root, target)):
        raise SpecError(f"{failed}The file '{target}' already exists locally. To override"
                        " it, re-run with '--force'.")  # fmt: skip
    if os.path.exists(os.path.join(project.root, dvcfile)):
        raise SpecError(f"{failed}'{dvcfile}' already exists; run 'llmpipe update {dvcfile}',"
                        " or re-run with '--force'")  # fmt: skip


def _record_import(
    project: Project, dvcfile: str, target: str, dep: dict[str, Any], resolve: bool
) -> Imported:
    """Write the `.dvc` file of an import without its data: with `resolve`
    (`--no-download`) the commit it would come from, as dvc, which checks the path is
    there; else (`--no-exec`) only the source as given."""
    commit = None
    if resolve:
        repo = dep["repo"]
        with open_source(repo["url"], repo.get("rev")) as source:
            find_item(source, dep["path"])
            commit = repo["rev_lock"] = source.commit
    body = import_body(dep, posixpath.basename(target), None, with_md5=resolve)
    write_in_place(project, dvcfile, body)
    ignore_output(project.root, target)
    return Imported(target, dvcfile, None, commit)


def describe_updated(done: list[Imported]) -> tuple[Targets, Outcome]:
    return describe_imported([i for i in done if i.changed])


@audited("update", describe=describe_updated)
def update(
    project: Project, targets: Sequence[str], rev: str | None = None,
    remote: str | None = None, to_remote: bool = False, jobs: int | None = None,
    recursive: bool = False,
) -> list[Imported]:  # fmt: skip
    """Bring imports up to date with their source (at `rev`, which is then recorded).

    An import-url is downloaded again when its source changed; with `to_remote` its
    new content goes to the remote (`remote`, default the project's) only. `jobs`:
    parallel downloads. With `recursive`, a directory target means every import
    defined inside it.
    """
    dvcfiles, others = _update_targets(project, targets, recursive)
    if others and (rev or to_remote):
        # dvc refuses too: the other stages would be updated from a worktree remote
        flag = "--rev" if rev else "--to-remote"
        raise SpecError(f"{flag} can't be used with worktree update ({others[0]} is no import)")
    project.notices.extend(
        f"Could not update '{path}', it was never pushed to a remote" for path in others
    )
    if remote and not to_remote and any(_is_url_import(project, t) for t in dvcfiles):
        raise SpecError("--remote can't be used without --to-remote")
    done = []
    with repo_lock(project.tmp_dir):
        for dvcfile in dvcfiles:
            spec = read_import(project.root, dvcfile)
            if spec is not None and spec.repo is None:
                if rev:
                    raise SpecError(f"'{dvcfile}' imports a URL: --rev applies to imports"
                                    " from projects only")  # fmt: skip
                path, info, changed = update_url(project, dvcfile, spec, to_remote, remote, jobs)
                done.append(Imported(path, dvcfile, info, None, changed))
                continue
            if spec is None:
                raise SpecError(f"'{dvcfile}' is not an import; nothing to update")
            if to_remote:
                raise SpecError("Data imported from other DVC or Git repositories can't be"
                                " updated with --to-remote")  # fmt: skip
            repo = dict(spec.repo)
            if rev:
                repo["rev"] = rev
            dep = {**spec.dep, "repo": repo}
            target = posixpath.join(posixpath.dirname(dvcfile), spec.out_path)
            done.append(_fetch_import(project, dvcfile, target, dep, repo.get("rev"), remote, jobs))
    return done


def _update_targets(
    project: Project, targets: Sequence[str], recursive: bool
) -> tuple[list[str], list[str]]:
    """The .dvc files `targets` name, and the cached outputs of the other stages met:
    with `recursive`, a directory names every stage inside it, and dvc would update
    those that are no import from a worktree remote (which llmpipe does not have)."""
    from .targets import project_graph, stages_inside

    dvcfiles: list[str] = []
    others: list[str] = []
    graph = None  # built once, for the first directory target
    for target in targets:
        if not (recursive and os.path.isdir(target)):
            dvcfiles.append(_dvcfile_of(project, target))
            continue
        graph = graph or project_graph(project)
        for address in stages_inside(project, graph, target):
            stage = graph.stages[address]
            if stage.dvcfile.endswith(".dvc") and read_import(project.root, stage.dvcfile):
                dvcfiles.append(stage.dvcfile)
            else:
                others.extend(stage.repo_path(out.path) for out in stage.outs if out.cache)
    return list(dict.fromkeys(dvcfiles)), others


def _is_url_import(project: Project, dvcfile: str) -> bool:
    spec = read_import(project.root, dvcfile)
    return spec is not None and spec.repo is None


def _fetch_import(
    project: Project, dvcfile: str, target: str, dep: dict[str, Any], rev: str | None,
    remote: str | None, jobs: int | None = None,
) -> Imported:  # fmt: skip
    repo = dep["repo"]
    info, repo["rev_lock"] = _download(project, repo["url"], dep["path"], rev, remote, jobs)
    absolute = os.path.join(project.root, target)
    guard = PathGuard(project.root)
    checkout(project.odb, info, absolute, project.config.link_types, project.state, guard=guard)
    body = import_body({"path": dep["path"], "repo": repo}, posixpath.basename(target), info)
    changed = write_in_place(project, dvcfile, body)
    ignore_output(project.root, target)
    return Imported(target, dvcfile, info, repo["rev_lock"], changed)


def _download(
    project: Project, url: str, path: str, rev: str | None, remote: str | None,
    jobs: int | None = None,
) -> tuple[HashInfo, str]:  # fmt: skip
    """Put `path` of the project at `url` (at `rev`) in this project's cache: its hash, and
    the commit it came from."""
    with open_source(url, rev) as source:
        scratch = os.path.join(project.tmp_dir, "remote")
        objects = SourceObjects(source, project.odb, scratch, remote, jobs)
        item = find_item(source, path)
        files = item_files(source, item, objects)
        objects.copy_into_cache(e.oid for e in files if e.oid)
        info = import_hash(item, files, objects)
        if info.isdir:
            objects.copy_into_cache([info.value])
        return info, source.commit


def fetch_undownloaded(
    project: Project, stages: Iterable[Stage]
) -> tuple[list[tuple[str, HashInfo]], list[str]]:
    """Download into the cache the imports of `stages` made with `--no-download` (the
    source recorded, the output's hash not), as `pull` does in dvc; their `.dvc` files
    are left as they are (`update` records the output). (output path, hash) of each, and
    the objects of their files.

    SpecError when a URL's source no longer has the content its `.dvc` file records.
    """
    done: list[tuple[str, HashInfo]] = []
    for stage in stages:
        if not (stage.is_data_source and stage.frozen):
            continue
        spec = read_import(project.root, stage.dvcfile)
        if spec is None or read_dvcfile_hash(project.root, stage.dvcfile) is not None:
            continue
        target = posixpath.join(posixpath.dirname(stage.dvcfile), spec.out_path)
        repo = spec.repo
        if repo is None:
            dep = recorded_hashes(project, stage.dvcfile)[0]
            if dep is not None:
                done.append((target, fetch_recorded(project, stage.dvcfile, spec, dep)))
        elif isinstance(repo.get("rev_lock"), str):  # not --no-exec: the commit is known
            done.append((target, _download(project, repo["url"], spec.dep["path"],
                                           repo["rev_lock"], None)[0]))  # fmt: skip
    return done, [oid for _, info in done for oid in _file_objects(project.odb, info)]


def _file_objects(odb: ObjectDB, info: HashInfo) -> list[str]:
    if not info.isdir:
        return [info.value]
    return [value for _relpath, value in odb.read_manifest(info.value)]


def _repo_relpath(project: Project, path: str) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, project.root).replace(os.sep, "/")
    if relative == "." or relative.startswith("../"):
        raise SpecError(f"'{path}' is outside the project at '{project.root}'")
    return relative


def _dvcfile_of(project: Project, target: str) -> str:
    relpath = _repo_relpath(project, target)
    if not relpath.endswith(".dvc"):
        relpath += ".dvc"
    if not os.path.isfile(os.path.join(project.root, relpath)):
        raise SpecError(f"'{target}' names no .dvc file of this project")
    return relpath
