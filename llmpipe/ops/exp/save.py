"""Commit the workspace as an experiment, as dvc's workspace runs commit it.

The commit holds what `git add -u` would record (every tracked file as it is
now) plus the files dvc adds on its own: after a run, each stage's dvc.yaml,
dvc.lock, in-repository deps that no stage produces, uncached outputs, params,
metrics and plots files, and the `.gitignore` files beside them; for `exp save`,
only the top-level metrics, params and plots files, the root dvc.lock and the
paths named with `-I` (`save_paths`), as `dvc exp save` adds. Its parent is HEAD
(the baseline) and its message `dvc: commit experiment <hash>`, where the hash
is the sha256 of the lock entries. It is written through a temporary index
with git's plumbing: HEAD, the branch and the user's index never move.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import scm
from ...errors import ExperimentError, LlmpipeError
from ...lockfile import read_lock
from ...spec import discover_dvcfiles, parse_dvcyaml
from .refs import ExpRef, check_name, experiments, random_name

if TYPE_CHECKING:
    from ...project import Project
    from ...stage import Stage


@dataclass(frozen=True)
class SavedExp:
    """The experiment written; `reused` when an identical one already had the name."""

    exp: ExpRef
    reused: bool = False
    # Files git does not track that the commit left out (dvc warns about them).
    left_out: tuple[str, ...] = ()


def baseline_of(project: Project) -> str:
    """The commit experiments start from (HEAD); ExperimentError without one."""
    scm.clear_cache()
    head = scm.head_commit(project.root)
    if head is None:
        raise ExperimentError(
            "experiments need a git commit to start from: commit the project first"
            " ('git add -A && git commit')"
        )
    return head


def save_locked(
    project: Project,
    name: str | None = None,
    force: bool = False,
    include_untracked: Sequence[str] = (),
    start: tuple[str, str] | None = None,
    partial_copy: bool = False,
    message: str | None = None,
    paths: Sequence[str] | None = None,
) -> SavedExp:
    """Commit the workspace as experiment `name` (a fresh random one by default) on HEAD.

    An existing experiment of that name is replaced with `force`, kept when its
    files are the same, and otherwise an ExperimentError. The caller holds the lock.
    `start` (baseline, snapshot commit) is for a queued run's copy of the project:
    the experiment goes on that baseline, starting from the snapshot's files.
    `partial_copy` is for a sweep job's copy, which lacks some tracked files
    (`.llmpipe/`): it starts from HEAD's files and updates only those it has.
    `message` replaces dvc's `dvc: commit experiment <hash>`. `paths` (project paths)
    replaces the files added beyond the tracked ones (default: those a run adds).
    """
    baseline = start[0] if start else baseline_of(project)
    mine = {exp.name: exp for exp in experiments(project.root) if exp.baseline == baseline}
    name = check_name(name) if name else random_name(set(mine))
    stages = project.stages()
    if paths is None:
        named = [_repo_relpath(project, p) for p in include_untracked]
        paths = _extra_paths(project, stages) + named
    message = message or _message(project, stages)
    tree = start[1] if start else (baseline if partial_copy else None)
    commit = commit_workspace(project, baseline, message, paths, tree, partial_copy)
    existing = mine.get(name)
    if existing is not None and not force:
        if _same_tree(project.root, existing.commit, commit):
            return SavedExp(existing, reused=True)
        raise ExperimentError(
            f"experiment '{name}' already exists with other results;"
            " overwrite it with -f/--force or choose another name with -n"
        )
    exp = ExpRef(baseline, name, commit)
    scm.run_git(project.root, "update-ref", "-m", f"llmpipe: experiment '{name}'", exp.ref, commit)
    return SavedExp(exp)


def commit_workspace(
    project: Project,
    baseline: str,
    message: str,
    paths: list[str],
    tree: str | None = None,
    only_present: bool = False,
) -> str:
    """A commit of the workspace on `baseline`, written through a copy of the index (or
    an index of commit `tree`'s files): HEAD and the user's index stay as they are.

    `only_present` updates the tracked files the work tree has and takes no missing
    one for deleted (a copy of the project holding only some of them)."""
    index = scm.index_path(project.root)
    top = scm.git_root(project.root)
    assert index is not None and top is not None  # baseline_of found a repository
    with tempfile.TemporaryDirectory(prefix="exp-", dir=_scratch(project)) as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        if tree is None and os.path.exists(index):  # its stat data spares git re-hashing
            # With the index's own mtime: git trusts an entry's stat data only when the
            # entry is older than the index file, and re-reads a file changed in the same
            # timestamp tick as its entry ("racy git"). A fresh mtime would hide such a
            # change and commit the file's old content.
            shutil.copy2(index, env["GIT_INDEX_FILE"])
        else:
            scm.run_git(top, "read-tree", tree or baseline, env=env)
        if only_present:
            _add_present(top, scratch, env)
        else:
            scm.run_git(top, "add", "-u", env=env)
        present = [p for p in dict.fromkeys(paths) if _exists(project, p)]
        ignored = scm.ignored_paths(project.root, present)
        wanted = [p for p in present if p not in ignored]
        if wanted:
            scm.run_git(project.root, "add", "--", *wanted, env=env)
        tree = scm.run_git(top, "write-tree", env=env)
    # The message as given, with no newline added (`-m` adds one; dvc's commits have none).
    return scm.run_git(top, "commit-tree", tree, "-p", baseline, "-F", "-", stdin=message)


def save_paths(project: Project, include_untracked: Sequence[str]) -> list[str]:
    """The files `dvc exp save` adds beyond the tracked ones (project paths): the top-level
    metrics, params and plots files of every dvc.yaml, the root dvc.lock, and
    `include_untracked`. A stage's new lock or `.gitignore` elsewhere is left out (and
    warned about), as dvc leaves it out."""
    found: list[str] = []
    for relpath in discover_dvcfiles(project.root):
        if posixpath.basename(relpath) == "dvc.yaml":
            spec = parse_dvcyaml(project.root, relpath)
            base = posixpath.dirname(relpath)
            found += [_join(base, path) for path in (*spec.metrics, *spec.params)]
            found += [_join(base, path) for path in _plot_sources(spec.plots)]
    return [*found, "dvc.lock", *(_repo_relpath(project, p) for p in include_untracked)]


def _plot_sources(entries: Iterable[object]) -> list[str]:
    """The files top-level plots read: a plot's id, or the files its `y` (and `x`) map."""
    sources: list[str] = []
    for entry in entries:
        for plot_id, options in ({entry: None} if isinstance(entry, str) else entry).items():  # type: ignore[union-attr]
            props = options if isinstance(options, dict) else {}
            if not isinstance(props.get("y"), dict):
                sources.append(str(plot_id))
                continue
            sources += [str(f) for axis in ("y", "x") if isinstance(props.get(axis), dict)
                        for f in props[axis]]  # fmt: skip
    return sources


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def save_message(project: Project, committed: Sequence[tuple[str, str]]) -> str:
    """`dvc exp save`'s message: the sha256 of the lock entries of the stages it committed,
    given as (lock file, stage name); dvc hashes none when targets were named (`{}`)."""
    entries: dict[str, object] = {}
    locks: dict[str, dict] = {}
    for lockfile, name in committed:
        if lockfile not in locks:
            try:
                locks[lockfile] = read_lock(project.root, lockfile)
            except LlmpipeError:
                locks[lockfile] = {}  # an unreadable lock only changes the hash
        if name in locks[lockfile]:
            entries[name] = locks[lockfile][name]
    return _digest_message(entries)


def _add_present(top: str, scratch: str, env: dict[str, str]) -> None:
    tracked = scm.run_git(top, "ls-files", "-z", env=env).split("\0")
    present = [p for p in tracked if p and os.path.lexists(os.path.join(top, p))]
    if not present:
        return
    listing = os.path.join(scratch, "present")
    with open(listing, "w", encoding="utf-8") as handle:
        handle.write("\0".join(present))
    scm.run_git(top, "add", f"--pathspec-from-file={listing}", "--pathspec-file-nul", env=env)


def _scratch(project: Project) -> str:
    os.makedirs(project.tmp_dir, exist_ok=True)
    return project.tmp_dir


def _message(project: Project, stages: Iterable[Stage]) -> str:
    """dvc's message: the sha256 of the stages' lock entries, as sorted JSON."""
    entries: dict[str, object] = {}
    for lockfile in dict.fromkeys(s.lockfile for s in stages if not s.is_data_source):
        try:
            entries.update(read_lock(project.root, lockfile))
        except LlmpipeError:
            continue  # an unreadable lock only changes the hash in the message
    return _digest_message(entries)


def _digest_message(entries: dict[str, object]) -> str:
    digest = hashlib.sha256(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest()
    return f"dvc: commit experiment {digest}"


def _extra_paths(project: Project, stages: list[Stage]) -> list[str]:
    """The files dvc adds to an experiment commit beyond the tracked ones (project paths)."""
    produced = {s.repo_path(o.path) for s in stages for o in s.outs}
    found: list[str] = []
    for stage in stages:
        found += [stage.dvcfile, _sibling(stage.dvcfile, ".gitignore")]
        if not stage.is_data_source:
            found.append(stage.lockfile)
        found += [stage.repo_path(p.file) for p in stage.params]
        for dep in stage.deps:
            if stage.in_repo(dep.path) and stage.repo_path(dep.path) not in produced:
                found.append(stage.repo_path(dep.path))
        for out in (o for o in stage.outs if stage.in_repo(o.path)):
            path = stage.repo_path(out.path)
            found.append(path if not out.cache else _sibling(path, ".gitignore"))
    return [*found, "params.yaml"]


def _sibling(path: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(path), name)


def _exists(project: Project, relpath: str) -> bool:
    return os.path.exists(os.path.join(project.root, relpath))


def _repo_relpath(project: Project, path: str) -> str:
    return os.path.relpath(os.path.abspath(path), project.root).replace(os.sep, "/")


def _same_tree(root: str, first: str, second: str) -> bool:
    trees = scm.run_git(root, "rev-parse", f"{first}^{{tree}}", f"{second}^{{tree}}").split()
    return len(set(trees)) == 1
