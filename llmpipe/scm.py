"""Every git question llmpipe asks: the work tree, the commit checked out, refs, files.

A project may sit in a sub-folder of a git work tree (`dvc init --subdir`):
every function taking a project root looks for the work tree at or above it.
Answers about the work tree are cached per process (a `repro` asks once per
stage run); call `clear_cache()` after changing the repository from the same
process. The commit is read from `.git` files directly (no subprocess); only
the dirty flag, ref listings, file listings and git config run git. Every
function returns None (or nothing) outside a git repository or when git
cannot answer, unless its docstring says otherwise. Reading files at a
revision is `revfs`'s.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import lru_cache

from .errors import LlmpipeError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_MAX_SYMREF_DEPTH = 5


@lru_cache(maxsize=64)
def git_root(path: str) -> str | None:
    """The top directory of the git work tree containing `path`, or None."""
    current = os.path.abspath(path)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def prefix_in_work_tree(path: str) -> str | None:
    """`path` relative to the top of its git work tree, in posix form ('' at the top).

    None outside a git work tree. This is the prefix of a sub-directory project's
    files in git's trees.
    """
    top = git_root(path)
    if top is None:
        return None
    relative = os.path.relpath(os.path.abspath(path), top).replace(os.sep, "/")
    return "" if relative == "." else relative


def link_git_dir(top: str, dest: str) -> bool:
    """Give folder `dest` the git directory of the work tree at `top`; False if it has none.

    A `.git` file naming it, as linked worktrees have: git run in `dest` then sees
    `top`'s history (for reading: the index is shared).
    """
    found = _git_dir(top)
    if found is None:
        return False
    with open(os.path.join(dest, ".git"), "w", encoding="utf-8") as handle:
        handle.write(f"gitdir: {os.path.abspath(found)}\n")
    return True


@lru_cache(maxsize=64)
def head_commit(root: str) -> str | None:
    """The full sha of HEAD in the work tree holding `root`; None if unborn or not a repository."""
    top = git_root(root)
    git_dir = _git_dir(top) if top is not None else None
    if top is None or git_dir is None:
        return None
    sha = _resolve_ref(git_dir, "HEAD")
    if sha is not None:
        return sha
    # Ref layouts we do not parse (reftable, exotic setups) and unborn branches land here.
    return _git_output(top, "rev-parse", "--verify", "--quiet", "HEAD")


@lru_cache(maxsize=64)
def is_dirty(root: str) -> bool | None:
    """True when tracked files of the work tree holding `root` differ from HEAD.

    Untracked files do not count; the whole work tree counts, not only `root`.
    """
    if git_root(root) is None:
        return None
    # --no-optional-locks: never take index.lock, which would race the user's own git.
    output = _git_output(
        root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"
    )
    return None if output is None else bool(output)


def git_common_dir(path: str) -> str | None:
    """The git directory shared by every worktree of the repository holding `path`, or None."""
    top = git_root(path)
    git_dir = _git_dir(top) if top is not None else None
    return None if git_dir is None else _common_dir(git_dir)


def clear_cache() -> None:
    """Forget cached answers (after committing or editing files in this process)."""
    for function in (git_root, head_commit, is_dirty):
        function.cache_clear()


def _git_dir(root: str) -> str | None:
    """The git directory of work tree `root`: `.git`, or where a `.git` file points."""
    dot_git = os.path.join(root, ".git")
    if os.path.isdir(dot_git):
        return dot_git
    try:
        with open(dot_git, encoding="utf-8") as handle:
            content = handle.read().strip()
    except OSError:
        return None
    # Worktrees and submodules: a file reading "gitdir: <path>".
    if not content.startswith("gitdir:"):
        return None
    return os.path.normpath(os.path.join(root, content[len("gitdir:") :].strip()))


def _common_dir(git_dir: str) -> str:
    """Where shared refs live: a linked worktree names it in its `commondir` file."""
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as handle:
            return os.path.normpath(os.path.join(git_dir, handle.read().strip()))
    except OSError:
        return git_dir


def _resolve_ref(git_dir: str, ref: str) -> str | None:
    """Follow symbolic refs from `ref` to a sha through loose refs, then packed-refs."""
    common = _common_dir(git_dir)
    for _ in range(_MAX_SYMREF_DEPTH):
        value = _read_loose_ref(git_dir, common, ref)
        if value is None:
            return _packed_ref(common, ref)
        if not value.startswith("ref:"):
            return value if _SHA.match(value) else None
        ref = value[len("ref:") :].strip()
    return None


def _read_loose_ref(git_dir: str, common: str, ref: str) -> str | None:
    # HEAD and other per-worktree refs live in git_dir; branches in the common dir.
    for base in (git_dir, common):
        try:
            with open(os.path.join(base, ref), encoding="utf-8") as handle:
                return handle.read().strip()
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _packed_ref(common: str, ref: str) -> str | None:
    try:
        with open(os.path.join(common, "packed-refs"), encoding="utf-8") as handle:
            for line in handle:
                sha, _, name = line.strip().partition(" ")
                if name == ref and _SHA.match(sha):
                    return sha
    except OSError:
        pass
    return None


def _git_output(root: str, *args: str) -> str | None:
    """Stripped stdout of `git -C root args`, or None if git is missing or fails."""
    try:
        result = _git(root, args)
    except OSError:
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip()


def _git(
    root: str, args: tuple[str, ...], env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`git -C root args` run to the end, output captured; OSError when git cannot start."""
    return subprocess.run(
        ["git", "-C", root, *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})},
    )


# -- revisions (for comparing metrics, params and plots across commits) ---------


def list_refs(root: str, namespace: str) -> list[tuple[str, str]]:
    """(short name, commit sha) of every ref under `namespace` ("refs/heads", "refs/tags").

    Annotated tags are peeled to their commit. Empty outside a repository.
    """
    return [(short, sha) for _, short, sha in ref_listing(root, (namespace,))]


def ref_listing(root: str, namespaces: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(full name, short name, sha) of every ref under any of `namespaces`, sorted by full
    name, from one git run (a command reading several namespaces saves a process each).

    Annotated tags are peeled to their commit. Empty outside a repository.
    """
    output = _git_output(
        root,
        "for-each-ref",
        "--format=%(refname)%00%(refname:short)%00%(objectname)%00%(*objectname)",
        *namespaces,
    )
    refs = []
    for line in (output or "").splitlines():
        full, short, sha, peeled = line.split("\0")
        refs.append((full, short, peeled or sha))
    return refs


def all_commits(root: str) -> list[str]:
    """Every commit reachable from HEAD, a branch, a tag or a remote branch, newest first.

    As dvc's `-A`: experiment commits (`refs/exps/`) and other refs' are left out.
    """
    output = _git_output(root, "rev-list", "HEAD", "--branches", "--tags", "--remotes")
    return (output or "").split()


def current_branch(root: str) -> str | None:
    """The branch checked out in `root`, or None when HEAD is detached or unborn."""
    top = git_root(root)
    git_dir = _git_dir(top) if top is not None else None
    if git_dir is None:
        return None
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head[len(prefix) :] if head.startswith(prefix) else None


def is_shallow(root: str) -> bool:
    """True in a shallow clone (history before the graft points is missing)."""
    top = git_root(root)
    git_dir = _git_dir(top) if top is not None else None
    return git_dir is not None and os.path.exists(os.path.join(_common_dir(git_dir), "shallow"))


# -- files and settings ----------------------------------------------------------


def list_files(root: str) -> list[str] | None:
    """Files under `root` that git tracks or would track (ignored ones left out), sorted.

    Paths are relative to `root`, in posix form. None outside a git work tree;
    LlmpipeError when git is missing or fails inside one.
    """
    if git_root(root) is None:
        return None
    try:
        result = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except OSError as exc:
        raise LlmpipeError(f"cannot run git to list the files of '{root}': {exc}") from None
    if result.returncode != 0:
        raise LlmpipeError(f"cannot list the files of '{root}': {result.stderr.decode().strip()}")
    return sorted({p for p in result.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def is_ignored(root: str, path: str) -> bool:
    """Whether git's ignore rules (every `.gitignore`, `info/exclude`, core.excludesFile)
    leave out `path` (absolute, or relative to `root`), as `git check-ignore` says.

    False outside a git work tree, or when git cannot answer.
    """
    return _git_succeeds(root, "check-ignore", "-q", "--", path)


def is_tracked(root: str, path: str) -> bool:
    """Whether git tracks the file `path`, or any file below the folder `path`.

    False outside a git work tree, or when git cannot answer.
    """
    listed = _git_output(root, "ls-files", "-z", "--", path)
    return bool(listed)


def _git_succeeds(root: str, *args: str) -> bool:
    """True when `git -C root args` exits 0 (and git runs at all)."""
    if git_root(root) is None:
        return False
    try:
        result = subprocess.run(
            ["git", "-C", root, *args],
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except OSError:
        return False
    return result.returncode == 0


def user_identity(cwd: str = ".") -> str | None:
    """'Name <email>' from git's `user.name` and `user.email` as seen from `cwd`.

    Either one alone when only one is set; None when neither is.
    """
    output = _git_output(cwd, "config", "--get-regexp", r"^user\.(name|email)$")
    values = dict(line.split(" ", 1) for line in (output or "").splitlines() if " " in line)
    name, email = values.get("user.name"), values.get("user.email")
    if name and email:
        return f"{name} <{email}>"
    return name or email


def untracked_files(root: str) -> list[str]:
    """Files under `root` git does not track (ignored ones left out), relative to `root`."""
    output = _git_output(root, "ls-files", "-z", "--others", "--exclude-standard")
    return sorted(p for p in (output or "").split("\0") if p)


def has_changes(root: str, untracked: bool = False) -> bool:
    """True when git sees staged or unstaged changes (and untracked files, if asked)."""
    mode = "all" if untracked else "no"
    return bool(_git_output(root, "status", "--porcelain", f"--untracked-files={mode}"))


# -- writing commits and refs (experiments) ---------------------------------------


def run_git(
    root: str, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> str:
    """Stripped stdout of `git -C root args`; LlmpipeError naming the command when it fails.

    `env` adds variables (a temporary `GIT_INDEX_FILE`) to the environment; `stdin`
    is fed to git (`update-ref --stdin`).
    """
    try:
        result = _git(root, args, env, stdin)
    except OSError as exc:
        raise LlmpipeError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        raise LlmpipeError(f"git {args[0]} failed: {_git_error(result.stderr)}")
    return result.stdout.strip()


def _git_error(stderr: str) -> str:
    """git's own error line (`fatal: …`), not the advice it prints after it."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith(("fatal: ", "error: "))]
    return (errors or lines or ["no message"])[0 if errors else -1]


def full_refs(root: str, namespace: str) -> list[tuple[str, str]]:
    """(full ref name, sha) of every ref under `namespace` (`refs/exps`), sorted by name."""
    output = _git_output(root, "for-each-ref", "--format=%(refname)%00%(objectname)", namespace)
    return [tuple(line.split("\0", 1)) for line in (output or "").splitlines()]  # type: ignore[misc]


def index_path(root: str) -> str | None:
    """The index file of the work tree holding `root`, or None outside git."""
    top = git_root(root)
    git_dir = _git_dir(top) if top is not None else None
    return None if git_dir is None else os.path.join(git_dir, "index")


def ignored_paths(root: str, paths: list[str]) -> set[str]:
    """Those of `paths` (relative to `root`) that git ignores and does not track."""
    if not paths:
        return set()
    try:
        result = _git(root, ("check-ignore", "--stdin", "-z"), stdin="\0".join(paths))
    except OSError as exc:
        raise LlmpipeError(f"cannot run git: {exc}") from None
    return {p for p in result.stdout.split("\0") if p}
