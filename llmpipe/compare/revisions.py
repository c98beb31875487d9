"""Which revisions to compare: names the user gave, all branches, tags or commits.

A `Revision` pairs the label shown to users with the commit it names (None for
the workspace). Unknown names fail with suggestions of close branch and tag
names; in a shallow clone the message says that history is missing.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from .. import scm
from ..errors import LlmpipeError, RevisionError
from ..revfs import GitObjects
from ..stage import HashInfo

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


def used_hashes_at(root: str, choice: RevisionChoice) -> list[HashInfo]:
    """Output hashes that the dvc.lock and `.dvc` files of the chosen commits record.

    The workspace is not included (its own lock files are read in place).
    `root` is the project root; identical lock files are parsed once.
    Raises RevisionError for an unknown revision.
    """
    from ..revfs import RevTree

    git_root, prefix = scm.git_root(root), scm.prefix_in_work_tree(root)
    if git_root is None or prefix is None:
        raise RevisionError(f"'{root}' is not inside a git repository; run 'git init'")
    parsed: dict[str, list[HashInfo]] = {}
    used: list[HashInfo] = []
    with GitObjects(git_root) as objects:
        revisions = select_revisions(git_root, objects, _without_workspace(choice))
        for commit in dict.fromkeys(r.commit for r in revisions if r.commit):
            tree = RevTree(objects, commit, prefix)
            for path, oid in tree.blobs.items():
                if _records_outputs(path) and oid not in parsed:
                    parsed[oid] = _recorded_hashes(tree.read_bytes(path) or b"", path)
                used.extend(parsed.get(oid, ()))
    return used


def _without_workspace(choice: RevisionChoice) -> RevisionChoice:
    return RevisionChoice(
        choice.revs, choice.all_branches, choice.all_tags, choice.all_commits, workspace=False
    )


def _records_outputs(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if path.startswith(".dvc/") or "/.dvc/" in path:
        return False
    return name == "dvc.lock" or (name.endswith(".dvc") and name != ".dvc")


def _recorded_hashes(content: bytes, path: str) -> list[HashInfo]:
    """Hashes of the outs of a dvc.lock or `.dvc` file; unreadable files record none."""
    from ..lockfile import hashes_in
    from ..yamlio import load_yaml

    try:
        data = load_yaml(content.decode("utf-8"), path)
    except (LlmpipeError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    if path.endswith(".dvc"):
        return list(hashes_in(data, "outs").values())
    stages = data.get("stages")
    if not isinstance(stages, dict):
        return []
    return [
        info
        for entry in stages.values()
        if isinstance(entry, dict)
        for info in hashes_in(entry, "outs").values()
    ]
