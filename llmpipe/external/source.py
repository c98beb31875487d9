"""Open a git repository holding an llmpipe or DVC project, at a revision, as dvc does.

A local folder is read in place: without a revision its working directory (as
`dvc` reads it), with one the commit, through git objects; its own cache serves
data before its remote. Anything else is a URL git can clone: it is cloned bare
into a temporary folder and read at the revision (default: the default branch),
with the settings committed there. The commit read is what `.dvc` files record as
`rev_lock` (HEAD's for a working directory).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .. import scm
from ..errors import LlmpipeError, NotAProjectError, SourceError
from ..revfs import FileTree, GitObjects, RevTree, WorkTree, git_location

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..config import Config, RemoteConfig
    from ..outputs import UsedOutput
    from ..stage import Stage

_CONFIG_FILES = (".dvc/config", ".llmpipe/config")


@dataclass
class Source:
    """One project at one commit. Close it (or use `with`) to remove a clone."""

    url: str  # as the user gave it (what `.dvc` files record)
    pinned: str | None  # the commit read (None for a working directory: see `commit`)
    tree: FileTree
    config: Config
    odb: ObjectDB | None = None  # the source's own cache (local folders only)
    root: str | None = None  # its folder, for a local working directory
    _cleanup: list[str] = field(default_factory=list)
    _objects: GitObjects | None = None

    @property
    def in_workspace(self) -> bool:
        return isinstance(self.tree, WorkTree)

    @cached_property
    def commit(self) -> str | None:
        """The commit read; a working directory's is HEAD's (None without commits).

        Asked only when wanted: reading a file from a working directory needs no git.
        """
        if self.in_workspace and self.root is not None:
            return _head(self.root)
        return self.pinned

    @cached_property
    def stages(self) -> list[Stage]:
        from ..spec import load_stages

        return load_stages(self.root if self.in_workspace else self.tree)  # type: ignore[arg-type]

    @cached_property
    def outputs(self) -> list[UsedOutput]:
        """Every output whose hash the source records (cached or not), in stage order."""
        from ..outputs import recorded_outputs

        return recorded_outputs(self.root if self.in_workspace else self.tree, self.stages)

    def remote(self, name: str | None = None) -> RemoteConfig:
        """The remote `name` (default: the source's default remote) of the source project."""
        from ..errors import RemoteConfigError

        try:
            return self.config.remote(name)
        except RemoteConfigError as exc:
            raise RemoteConfigError(f"{self.url}: {exc}") from None

    def close(self) -> None:
        if self._objects is not None:
            self._objects.close()
        for folder in self._cleanup:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_source(url: str, rev: str | None = None) -> Source:
    """The project at git repository `url` (a folder, or any URL git clones) at `rev`.

    SourceError when git cannot clone it, the revision is unknown, or it holds no
    project.
    """
    if os.path.isdir(url):
        return _local(url, rev)
    return _cloned(url, rev)


def _local(url: str, rev: str | None) -> Source:
    from ..project import read_only_view

    root = os.path.abspath(url)
    try:
        config, odb = read_only_view(root)
    except NotAProjectError:
        raise SourceError(_not_a_project(url)) from None
    if rev is None:
        return Source(url, None, WorkTree(root), config, odb, root)
    try:
        git_root, prefix = git_location(root)
    except LlmpipeError:
        raise SourceError(f"'{url}' is not a git repository: it has no revision '{rev}'") from None
    objects = GitObjects(git_root)
    try:
        commit = _resolve(objects, url, rev)
    except BaseException:
        objects.close()
        raise
    return Source(url, commit, RevTree(objects, commit, prefix), config, odb, _objects=objects)


def latest_commit(url: str, rev: str | None) -> str | None:
    """The commit `rev` (default: the default branch) names in `url` now, without a clone.

    None when it cannot be told (an unknown revision, an unreachable URL).
    """
    if os.path.isdir(url):
        try:
            git_root = git_location(url)[0]
        except LlmpipeError:
            return None
        with GitObjects(git_root) as objects:
            return objects.commit_of(rev or "HEAD")
    if rev and len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
        return rev
    found = _ls_remote(url, rev or "HEAD")
    return found


def _ls_remote(url: str, rev: str) -> str | None:
    result = subprocess.run(
        ["git", "ls-remote", "--", url, rev, f"refs/tags/{rev}^{{}}"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    refs = dict(reversed(line.split("\t", 1)) for line in result.stdout.splitlines())
    peeled = refs.get(f"refs/tags/{rev}^{{}}")
    return peeled or next(iter(refs.values()), None) if result.returncode == 0 else None


def _head(root: str) -> str | None:
    """HEAD's commit, asked afresh (`scm.head_commit` remembers answers per process)."""
    if scm.git_root(root) is None:
        return None
    with GitObjects(git_location(root)[0]) as objects:
        return objects.commit_of("HEAD")


def _cloned(url: str, rev: str | None) -> Source:
    folder = tempfile.mkdtemp(prefix="llmpipe-source-")
    objects = None
    try:
        _clone(url, os.path.join(folder, "git"))
        objects = GitObjects(os.path.join(folder, "git"))
        commit = _resolve(objects, url, rev)
        tree = RevTree(objects, commit)
        config = _committed_config(tree, url, folder)
    except BaseException:
        if objects is not None:
            objects.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Source(url, commit, tree, config, _cleanup=[folder], _objects=objects)


def clone_workspace(url: str, dest: str) -> str:
    """Clone `url` into `dest` with its default branch checked out; `dest` back."""
    _clone(url, dest, bare=False)
    return dest


def _clone(url: str, dest: str, bare: bool = True) -> None:
    try:
        result = subprocess.run(
            ["git", "clone", *(["--bare"] if bare else []), "-q", "--", url, dest],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except OSError as exc:
        raise SourceError(f"cannot run git to clone '{url}': {exc}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1].removeprefix("fatal: ") if lines else f"git exited {result.returncode}"
        raise SourceError(f"cannot clone '{url}': {reason}")


def _resolve(objects: GitObjects, url: str, rev: str | None) -> str:
    commit = objects.commit_of(rev or "HEAD")
    if commit is None:
        if rev is None:
            raise SourceError(f"'{url}' has no commits")
        raise SourceError(f"unknown revision '{rev}' in '{url}'")
    return commit


def _committed_config(tree: RevTree, url: str, folder: str) -> Config:
    """The settings committed at the revision, read as the project's own would be."""
    from ..config import load_config

    if not (tree.exists(".dvc/config") or tree.exists(".dvc/.gitignore")):
        raise SourceError(_not_a_project(url))
    for relpath in _CONFIG_FILES:
        content = tree.read_bytes(relpath)
        if content is not None:
            os.makedirs(os.path.join(folder, os.path.dirname(relpath)), exist_ok=True)
            with open(os.path.join(folder, relpath), "wb") as handle:
                handle.write(content)
    return load_config(os.path.join(folder, ".dvc"), os.path.join(folder, ".llmpipe"))


def _not_a_project(url: str) -> str:
    return f"'{url}' is not an llmpipe or DVC project (it has no .dvc folder)"
