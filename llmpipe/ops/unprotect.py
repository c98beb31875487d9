"""`unprotect`: workspace files linked to the cache become copies that can be edited."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..cache.unprotect import unprotect as unprotect_path
from ..run.repolock import repo_lock
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project


def describe_unprotected(copied: list[str]) -> tuple[Targets, Outcome]:
    return [{"path": path} for path in copied], Outcome()


@audited("unprotect", describe=describe_unprotected)
def unprotect(project: Project, targets: Sequence[str]) -> list[str]:
    """Unprotect each target (a path relative to the current folder); the files copied.

    As dvc, any existing path is accepted, tracked or not (a file that is no link to
    the cache is already safe to edit); TargetError for one that does not exist.
    """
    with repo_lock(project.tmp_dir):
        copied = []
        for target in targets:
            found = unprotect_path(target)
            copied.extend(os.path.relpath(os.path.abspath(p), project.root) for p in found)
        return copied
