"""Which revisions to compare: names the user gave, all branches, tags or commits.

A `Revision` pairs the label shown to users with the commit it names (None for
the workspace). Unknown names fail with suggestions of close branch and tag
names; in a shallow clone the message says that history is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .. import scm
from ..errors import RevisionError
from ..revfs import GitObjects, git_location

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """`name` is dvc's key for it; `commit` is None for the working directory.

    dvc names the workspace `""` when it is all that is shown and `workspace`
    beside revisions, and a commit by the names that led to it (`main,v1`), or
    its full sha for `-A`. `label` is what messages call it.
    """

    name: str
    commit: str | None

    @property
    def is_workspace(self) -> bool:
        return self.commit is None

    @property
    def label(self) -> str:
        return self.name or WORKSPACE


@dataclass(frozen=True)
class RevisionChoice:
    """What the user asked for on the command line."""

    revs: Sequence[str] = ()
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    workspace: bool = True

    @property
    def any(self) -> bool:
        return bool(self.revs) or self.all_branches or self.all_tags or self.all_commits


def select_revisions(root: str, objects: GitObjects, choice: RevisionChoice) -> list[Revision]:
    """The revisions of `choice` as dvc lists them: the workspace first, then each commit
    once, named by every name that chose it (`--rev` names, branches, tags; shas for
    all commits), in that order.

    Raises RevisionError for a name git cannot resolve.
    """
    if not choice.any:
        return [Revision("", None)] if choice.workspace else []
    names: dict[str, list[str]] = {}
    for rev in choice.revs:
        if rev != WORKSPACE:
            names.setdefault(resolve(root, objects, rev), []).append(rev)
    if choice.all_commits:
        for sha in scm.all_commits(root):
            names.setdefault(sha, []).append(sha)
    else:
        refs = []
        if choice.all_branches:
            refs += scm.list_refs(root, "refs/heads")
        if choice.all_tags:
            refs += scm.list_refs(root, "refs/tags")
        for name, sha in refs:
            names.setdefault(sha, []).append(name)
    chosen = [Revision(WORKSPACE, None)] if choice.workspace else []
    chosen += [Revision(",".join(dict.fromkeys(n)), sha) for sha, n in names.items()]
    return chosen


def resolve(root: str, objects: GitObjects, rev: str) -> str:
    """The commit sha `rev` names; RevisionError with suggestions when there is none."""
    if rev == WORKSPACE:
        raise RevisionError("'workspace' is not a git revision; it is always compared")
    sha = objects.commit_of(rev)
    if sha is not None:
        return sha
    names = [name for ns in ("refs/heads", "refs/tags") for name, _ in scm.list_refs(root, ns)]
    import difflib  # only for this rare path: not at start-up

    close = difflib.get_close_matches(rev, names, n=3)
    hint = f" (did you mean {', '.join(repr(n) for n in close)}?)" if close else ""
    if scm.is_shallow(root):
        hint += (
            "; this is a shallow clone, so older commits are missing:"
            " run 'git fetch --unshallow' to get the full history"
        )
    elif not close:
        hint += "; list revisions with 'git branch -a' and 'git tag'"
    raise RevisionError(f"unknown revision '{rev}'{hint}")


def revision_commits(root: str, choice: RevisionChoice) -> list[str]:
    """The commits `choice` names for the project at `root`, each once (no workspace).

    RevisionError outside git and for a name git cannot resolve.
    """
    git_root, _ = git_location(root)
    with GitObjects(git_root) as objects:
        revisions = select_revisions(git_root, objects, replace(choice, workspace=False))
    return list(dict.fromkeys(r.commit for r in revisions if r.commit))
