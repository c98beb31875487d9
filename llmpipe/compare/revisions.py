"""Which revisions to compare: names the user gave, all branches, tags or commits.

A `Revision` pairs the label shown to users with the commit it names (None for
the workspace). Unknown names fail with suggestions of close branch and tag
names; in a shallow clone the message says that history is missing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .. import scm
from ..errors import RevisionError
from ..revfs import GitObjects, git_location

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """`name` as shown to users; `commit` is None for the working directory."""

    name: str
    commit: str | None

    @property
    def is_workspace(self) -> bool:
        return self.commit is None


@dataclass(frozen=True)
class RevisionChoice:
    """What the user asked for on the command line."""

    revs: Sequence[str] = ()
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    workspace: bool = True


def select_revisions(root: str, objects: GitObjects, choice: RevisionChoice) -> list[Revision]:
    """The revisions of `choice`, workspace first, each commit label listed once.

    Raises RevisionError for a name git cannot resolve.
    """
    chosen: list[Revision] = [Revision(WORKSPACE, None)] if choice.workspace else []
    for rev in choice.revs:
        chosen.append(Revision(rev, resolve(root, objects, rev)))
    if choice.all_branches:
        chosen.extend(Revision(name, sha) for name, sha in scm.list_refs(root, "refs/heads"))
    if choice.all_tags:
        chosen.extend(Revision(name, sha) for name, sha in scm.list_refs(root, "refs/tags"))
    if choice.all_commits:
        chosen.extend(Revision(sha[:7], sha) for sha in scm.all_commits(root))
    return _unique(chosen)


def resolve(root: str, objects: GitObjects, rev: str) -> str:
    """The commit sha `rev` names; RevisionError with suggestions when there is none."""
    if rev == WORKSPACE:
        raise RevisionError("'workspace' is not a git revision; it is always compared")
    sha = objects.commit_of(rev)
    if sha is not None:
        return sha
    names = [name for ns in ("refs/heads", "refs/tags") for name, _ in scm.list_refs(root, ns)]
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


def _unique(revisions: list[Revision]) -> list[Revision]:
    seen: set[str] = set()
    unique = []
    for revision in revisions:
        if revision.name not in seen:
            seen.add(revision.name)
            unique.append(revision)
    return unique


def revision_commits(root: str, choice: RevisionChoice) -> list[str]:
    """The commits `choice` names for the project at `root`, each once (no workspace).

    RevisionError outside git and for a name git cannot resolve.
    """
    git_root, _ = git_location(root)
    with GitObjects(git_root) as objects:
        revisions = select_revisions(git_root, objects, replace(choice, workspace=False))
    return list(dict.fromkeys(r.commit for r in revisions if r.commit))
