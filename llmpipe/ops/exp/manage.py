"""`exp list`, `exp remove`, `exp rename`, `exp branch`, `exp apply`: experiments as refs.

Each verb works as dvc's does on the same refs: `list` groups experiments by
baseline (HEAD's by default), `remove` deletes refs (locally or on a git
remote), `rename` moves a ref to another name on the same baseline, `branch`
makes a branch of an experiment's commit, and `apply` puts an
experiment's files in the workspace and checks out its outputs, without moving
HEAD or touching the index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import scm
from ...errors import ExperimentError
from ...run.repolock import repo_lock
from ..audit import Outcome, Targets, audited
from ..checkout import checkout_locked
from .refs import ExpRef, check_name, experiments, find, remote_experiments

if TYPE_CHECKING:
    from ...project import Project

APPLIED_REF = "refs/exps/exec/EXEC_APPLY"  # dvc's record of the experiment last applied


def list_experiments(
    project: Project, baselines: Sequence[str] = (), all_commits: bool = False,
    git_remote: str | None = None,
) -> dict[str, list[ExpRef]]:  # fmt: skip
    """{baseline sha: its experiments} in ref order; of HEAD unless `baselines` or `all_commits`.

    With `git_remote`, the experiments that remote holds.
    """
    found = remote_experiments(project.root, git_remote) if git_remote else experiments(
        project.root)  # fmt: skip
    wanted = None if all_commits else set(baselines or [_head(project)])
    grouped: dict[str, list[ExpRef]] = {}
    for exp in found:
        if wanted is None or exp.baseline in wanted:
            grouped.setdefault(exp.baseline, []).append(exp)
    return grouped


def _head(project: Project) -> str:
    scm.clear_cache()
    return scm.head_commit(project.root) or ""


def describe_removed(removed: list[ExpRef]) -> tuple[Targets, Outcome]:
    return [{"path": exp.ref, "hash": exp.commit, "experiment": exp.name} for exp in removed], (
        Outcome()
    )


@audited("exp remove", describe=describe_removed)
def remove(
    project: Project,
    names: Sequence[str] = (),
    baselines: Sequence[str] = (),
    all_commits: bool = False,
    git_remote: str | None = None,
    keep: bool = False,
) -> list[ExpRef]:
    """Delete the experiments `names` name, or all of `baselines`, or every one (`all_commits`);
    with `keep`, every experiment but those (dvc's `--keep`).

    On `git_remote`, the remote's refs are deleted (`git push REMOTE :REF`). An unknown
    name stops the verb before anything is deleted.
    """
    chosen = _chosen(project, names, baselines, all_commits, git_remote)
    if keep and (names or baselines or all_commits):
        every = remote_experiments(project.root, git_remote) if git_remote else experiments(
            project.root)  # fmt: skip
        kept = {exp.ref for exp in chosen}
        chosen = [exp for exp in every if exp.ref not in kept]
    with repo_lock(project.tmp_dir):
        if git_remote:
            if chosen:
                scm.run_git(project.root, "push", git_remote, *(f":{e.ref}" for e in chosen))
        else:
            for exp in chosen:
                scm.run_git(project.root, "update-ref", "-d", exp.ref, exp.commit)
    return chosen


def _chosen(project: Project, names: Sequence[str], baselines: Sequence[str], all_commits: bool,
            git_remote: str | None) -> list[ExpRef]:  # fmt: skip
    if names:
        head = _head(project)
        pool = remote_experiments(project.root, git_remote) if git_remote else None
        return [_find_in(project, name, head, pool) for name in dict.fromkeys(names)]
    grouped = list_experiments(project, baselines, all_commits, git_remote)
    return [exp for exps in grouped.values() for exp in exps] if (baselines or all_commits) else []


def _find_in(project: Project, name: str, head: str, pool: list[ExpRef] | None) -> ExpRef:
    if pool is None:
        return find(project.root, name, head)
    matches = [exp for exp in pool if name in (exp.name, exp.ref)]
    if not matches:
        raise ExperimentError(f"the git remote holds no experiment named '{name}'")
    on_head = [exp for exp in matches if exp.baseline == head]
    return (on_head or matches)[0]


def describe_renamed(renamed: tuple[ExpRef, ExpRef] | None) -> tuple[Targets, Outcome]:
    if renamed is None:
        return [], Outcome()
    old, new = renamed
    return [{"path": new.ref, "hash": new.commit, "experiment": new.name,
             "renamed_from": old.ref}], Outcome()  # fmt: skip


@audited("exp rename", describe=describe_renamed)
def rename(
    project: Project, name: str, new_name: str, force: bool = False, git_remote: str | None = None
) -> tuple[ExpRef, ExpRef] | None:
    """Move experiment `name` to `new_name` on its baseline: (old, new), or None when the
    names are the same (dvc then renames nothing, found or not).

    An experiment already named `new_name` on that baseline is replaced only with `force`.
    With `git_remote`, `name` is looked up among the experiments that remote holds, and
    this repository's ref of that experiment is renamed; the remote is left as it is, as
    dvc leaves it (`exp push` sends the new name).
    """
    if name == new_name:
        return None
    pool = remote_experiments(project.root, git_remote) if git_remote else None
    with repo_lock(project.tmp_dir):
        old = _local(project, _find_in(project, name, _head(project), pool), git_remote)
        new = ExpRef(old.baseline, check_name(new_name), old.commit)
        taken = scm.full_refs(project.root, new.ref)
        if taken and not force:
            raise ExperimentError(
                f"experiment '{new_name}' already exists on baseline {old.baseline[:7]};"
                " replace it with -f/--force or choose another name"
            )
        # One transaction: the experiment is never under both names, nor under none.
        commands = f"update {new.ref} {old.commit}\ndelete {old.ref} {old.commit}\n"
        scm.run_git(project.root, "update-ref", "--stdin", stdin=commands)
    return old, new


def _local(project: Project, exp: ExpRef, git_remote: str | None) -> ExpRef:
    """`exp` (found on `git_remote`, when given) as this repository holds it."""
    if git_remote is None:
        return exp
    held = scm.full_refs(project.root, exp.ref)
    if not held:
        raise ExperimentError(
            f"experiment '{exp.name}' is on git remote '{git_remote}' but not in this"
            f" repository; get it with 'llmpipe exp pull {git_remote} {exp.name}' first"
        )
    return ExpRef(exp.baseline, exp.name, held[0][1])


def describe_branch(made: tuple[str, ExpRef]) -> tuple[Targets, Outcome]:
    branch, exp = made
    return [{"path": f"refs/heads/{branch}", "hash": exp.commit, "experiment": exp.name}], (
        Outcome()
    )


@audited("exp branch", describe=describe_branch)
def branch(project: Project, name: str, branch_name: str | None = None) -> tuple[str, ExpRef]:
    """Make git branch `branch_name` (default `<name>-branch`) at experiment `name`'s commit."""
    exp = find(project.root, name, _head(project))
    branch_name = branch_name or f"{exp.name}-branch"
    if scm.full_refs(project.root, f"refs/heads/{branch_name}"):
        raise ExperimentError(f"git branch '{branch_name}' already exists")
    scm.run_git(project.root, "check-ref-format", "--branch", branch_name)
    message = f"dvc: Created from experiment '{exp.name}'"
    scm.run_git(project.root, "update-ref", "-m", message, f"refs/heads/{branch_name}",
                exp.commit, "")  # fmt: skip
    return branch_name, exp


@dataclass(frozen=True)
class Applied:
    exp: ExpRef
    written: tuple[str, ...]
    deleted: tuple[str, ...]


def describe_applied(applied: Applied) -> tuple[Targets, Outcome]:
    exp = applied.exp
    return [{"path": exp.ref, "hash": exp.commit, "experiment": exp.name}], Outcome()


@audited("exp apply", describe=describe_applied)
def apply(project: Project, name: str) -> Applied:
    """Put experiment `name`'s files in the workspace and check out its outputs.

    As dvc's apply: HEAD and the branch stay, the workspace's changes to the
    files the experiment holds are overwritten (its outputs are in the cache).
    """
    exp = find(project.root, name, _head(project))
    top = scm.git_root(project.root)
    assert top is not None  # find() read refs from a repository
    with repo_lock(project.tmp_dir):
        written, deleted = _restore_files(project, top, exp.commit)
        scm.clear_cache()
        checkout_locked(project, force=True)
        scm.run_git(top, "update-ref", APPLIED_REF, exp.commit)
    return Applied(exp, written, deleted)


def _restore_files(
    project: Project, top: str, commit: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Make the tracked files of the work tree those of `commit`, through a temporary index."""
    import tempfile

    differing = scm.run_git(top, "diff", "--name-only", "--no-renames", "-z", commit).split("\0")
    differing = [p for p in differing if p]
    held = set(scm.run_git(top, "ls-tree", "-r", "--name-only", "-z", commit).split("\0"))
    written = [p for p in differing if p in held]
    deleted = [p for p in differing if p not in held]
    if written:
        os.makedirs(project.tmp_dir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="exp-", dir=project.tmp_dir) as scratch:
            env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
            scm.run_git(top, "read-tree", commit, env=env)
            scm.run_git(top, "checkout-index", "-f", "--", *written, env=env)
    for path in deleted:
        full = os.path.join(top, path)
        if os.path.lexists(full):
            os.remove(full)
    return tuple(written), tuple(deleted)
