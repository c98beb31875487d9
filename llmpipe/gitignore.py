"""Keep cached outputs out of git, as DVC does: `/name` in the parent's `.gitignore`.

As dvc writes it: the name is escaped (`/file\\!with\\*weird\\#naming_\\[1\\].t\\?t`),
so that it matches that one path and never acts as a glob; and nothing is written for
a path that git ignores already (a `models/` rule above it, say), which git is asked.
"""

from __future__ import annotations

import os
import posixpath
import threading

from . import scm

_mutex = threading.Lock()


def ignore_output(root: str, relpath: str) -> bool:
    """Add `/basename` of `relpath` to the `.gitignore` beside it; True when it was added.

    Does nothing outside a git work tree (DVC's `--no-scm` projects; a project in a
    sub-folder of a work tree, `dvc init --subdir`, is inside one), nor when the
    entry is there already or git ignores the path by another rule.
    """
    if scm.git_root(root) is None:
        return False
    parent, name = posixpath.split(relpath)
    gitignore = os.path.join(root, parent, ".gitignore")
    entry = "/" + escape(name)
    if entry in _read_lines(gitignore) or scm.is_ignored(root, relpath):
        return False
    return add_entry(gitignore, entry)


_SPECIAL = frozenset("\\[]!*#?")


def escape(name: str) -> str:
    """`name` with gitignore's special characters escaped, as dvc (pathspec) escapes them."""
    return "".join(f"\\{char}" if char in _SPECIAL else char for char in name)


def add_entry(gitignore: str, entry: str) -> bool:
    """Append the line `entry` to the file `gitignore` unless it has it; True when added."""
    with _mutex:
        lines = _read_lines(gitignore)
        if entry in lines:
            return False
        with open(gitignore, "a", encoding="utf-8") as handle:
            if lines and not _ends_with_newline(gitignore):
                handle.write("\n")
            handle.write(entry + "\n")
    return True


def _read_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.rstrip("\n") for line in handle]
    except FileNotFoundError:
        return []


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def unignore_output(root: str, relpath: str) -> None:
    """Remove the `/basename` line of `relpath` from the `.gitignore` beside it, as dvc
    does when it stops tracking an output; a `.gitignore` left empty is deleted."""
    parent, name = posixpath.split(relpath)
    gitignore = os.path.join(root, parent, ".gitignore")
    with _mutex:
        lines = _read_lines(gitignore)
        if "/" + name not in lines:
            return
        kept = [line for line in lines if line != "/" + name]
        if not any(line.strip() for line in kept):
            os.remove(gitignore)
            return
        with open(gitignore, "w", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in kept))
