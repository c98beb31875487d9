"""Isolated workspaces for sweep jobs: a copy of the project sharing the user's cache.

A workspace holds every file git sees in the user's project (tracked files plus
untracked, not-ignored ones, with their uncommitted edits), `.dvc/config.local`,
and (by the caller, `ops.sweep_job`) the data tracked by `.dvc` files, linked from the
shared cache. Its
`.llmpipe/config` points `cache.dir` at the user's cache, so outputs and the
run-cache are shared; its own state DB and repo lock keep jobs independent. A `.git` file points at
the user's git directory (read-only use: commit and dirty flag for lineage).
Outside git, every file is copied except `.git`, `.dvc/cache`, `.dvc/tmp` and `.llmpipe`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

_SKIP_DIRS = {".git", ".llmpipe", os.path.join(".dvc", "cache"), os.path.join(".dvc", "tmp")}


def create_workspace(user_root: str, cache_dir: str, dest: str) -> str:
    """Copy the project at `user_root` to `dest` (created), sharing `cache_dir`; returns `dest`."""
    os.makedirs(dest, exist_ok=True)
    for rel in project_files(user_root):
        _copy(os.path.join(user_root, rel), os.path.join(dest, rel))
    for extra in (os.path.join(".dvc", "config.local"), os.path.join(".llmpipe", "config")):
        if os.path.exists(os.path.join(user_root, extra)):
            _copy(os.path.join(user_root, extra), os.path.join(dest, extra))
    _share_cache(dest, cache_dir)
    # Lineage then records the user's commit, and git in stage commands sees the history.
    from ..scm import link_git_dir

    link_git_dir(user_root, dest)
    return dest


def project_files(root: str) -> Iterator[str]:
    """Relative paths of the project's files as git sees them (or all files outside git)."""
    from ..scm import list_files

    listed = list_files(root)
    if listed is None:
        yield from _walk(root)
        return
    for rel in listed:
        if os.path.isfile(os.path.join(root, rel)) and not rel.startswith(".llmpipe/"):
            yield rel


def _walk(root: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [
            d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in _SKIP_DIRS
        ]
        for name in filenames:
            yield os.path.normpath(os.path.join(rel_dir, name))


def _copy(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)


def _share_cache(dest: str, cache_dir: str) -> None:
    # .llmpipe/config is read after .dvc/config(.local), so this cache.dir wins.
    from ..config import set_value

    set_value(os.path.join(dest, ".llmpipe", "config"), "cache", "dir", os.path.abspath(cache_dir))


def remove_workspace(path: str) -> None:
    from ..fsutil import remove

    if os.path.exists(path):
        remove(path)
