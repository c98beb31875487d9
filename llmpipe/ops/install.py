"""`install`: git hooks that keep data in step with git, as `dvc install` writes them.

Three hooks, each `exec llmpipe git-hook NAME "$@"` under `sh`, mode 0777 as dvc
leaves them: post-checkout checks the data out, pre-commit shows `status`, pre-push
pushes. A hook already there (anyone's, dvc's or llmpipe's own) is never overwritten:
the whole install is refused before anything is written, as dvc refuses. With
`pre_commit_tool`, the hooks go into `.pre-commit-config.yaml` instead, as a local
repository entry (added once; the rest of the file kept) for the pre-commit tool.

dvc also registers its merge driver for `.dvc` files; llmpipe has none, so git's
own merge applies.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from ..errors import LlmpipeError
from ..fsutil import atomic_write_text
from ..scm import git_root, run_git
from ..yamlio import dump_yaml, load_for_update
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project

HOOKS = ("post-checkout", "pre-commit", "pre-push")
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"


def describe_installed(written: list[str]) -> tuple[Targets, Outcome]:
    return [{"path": path} for path in written], Outcome()


@audited("install", describe=describe_installed)
def install(project: Project, pre_commit_tool: bool = False) -> list[str]:
    """Install the hooks in the project's git repository; the files written.

    LlmpipeError outside git, or when one of the hooks exists already.
    """
    top = git_root(project.root)
    if top is None:
        raise LlmpipeError("failed to install llmpipe Git hooks - the project is not in git")
    if pre_commit_tool:
        return [_add_pre_commit_entry(top)]
    hooks_dir = os.path.join(top, run_git(top, "rev-parse", "--git-path", "hooks"))
    for name in HOOKS:
        if os.path.lexists(os.path.join(hooks_dir, name)):
            raise LlmpipeError(
                f"failed to install llmpipe Git hooks - Hook '{name}' already exists."
                " Move it away (or call 'llmpipe git-hook' from it) and run install again."
            )
    os.makedirs(hooks_dir, exist_ok=True)
    shell = shutil.which("sh") or "/bin/sh"
    written = []
    for name in HOOKS:
        path = os.path.join(hooks_dir, name)
        atomic_write_text(path, f"#!{shell}\nexec llmpipe git-hook {name} $@\n", mode=0o777)
        written.append(path)
    return written


def _add_pre_commit_entry(top: str) -> str:
    path = os.path.join(top, PRE_COMMIT_CONFIG)
    try:
        with open(path, encoding="utf-8") as handle:
            config = load_for_update(handle.read())
    except FileNotFoundError:
        config = {}
    repos = config.setdefault("repos", [])
    if _ENTRY not in repos:
        repos.append(_ENTRY)
        atomic_write_text(path, dump_yaml(config))
    return path


def _hook(name: str, what: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"llmpipe-{name}",
        "name": f"llmpipe {what}",
        "entry": f"llmpipe git-hook {name}",
        "language": "system",
        "pass_filenames": False,
        "require_serial": True,
        "verbose": True,
        "stages": [name],
        **extra,
    }


_ENTRY: dict[str, Any] = {
    "repo": "local",
    "hooks": [
        _hook("pre-commit", "status"),
        _hook("pre-push", "push"),
        _hook("post-checkout", "checkout", always_run=True),
    ],
}
