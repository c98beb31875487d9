"""Where llmpipe may write in a workspace: inside it, and never in git's or its own folders.

A committed `.dvc` file or dvc.yaml names the paths that `checkout` and `pull`
write, so a malicious commit could aim them at `.git/hooks/` or `.git/config`
(code that runs on the next `git commit`), or at a symlink that leads out of
the workspace. Paths are checked twice: by name when a file is loaded
(`protected_component`), and by where they really lead, after resolving
symlinks, right before a write (`PathGuard`).
"""

from __future__ import annotations

import os

from .errors import UnsafePathError

# Compared case-insensitively: on macOS and Windows `.GIT/hooks` is `.git/hooks`.
PROTECTED_DIRS = (".git", ".dvc", ".llmpipe")


def protected_component(relpath: str) -> str | None:
    """The first component of posix `relpath` naming a protected folder, else None.

    Any depth counts: `sub/.git` is a nested repository's git folder, and
    `sub/.dvc` a nested project's settings.
    """
    for part in relpath.split("/"):
        if part.casefold() in PROTECTED_DIRS:
            return part
    return None


class PathGuard:
    """Checks that directories llmpipe writes into really lie inside the workspace.

    Each directory is resolved once (`os.path.realpath`) and remembered, so a
    checkout of 10,000 files in 50 folders costs 50 resolutions.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._real_root = os.path.realpath(self.root)
        self._checked: set[str] = set()

    def check_output(self, path: str) -> None:
        """Refuse an output whose path (a file's folder, or a directory output itself,
        following a symlink there) leads outside the workspace or into a protected folder."""
        self.check_dir(path if os.path.isdir(path) else os.path.dirname(path))

    def check_write(self, path: str) -> None:
        """Refuse to create, replace or delete `path` unless its folder is safe.

        The last component is not followed: a symlink at `path` is replaced or
        removed itself, never written through.
        """
        self.check_dir(os.path.dirname(path))

    def check_dir(self, directory: str) -> None:
        if directory in self._checked:
            return
        real = os.path.realpath(directory)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise UnsafePathError(
                f"'{self._shown(directory)}' leads outside the project (to '{real}') through"
                " a symlink; llmpipe does not write through it. Remove the symlink (or make"
                " it point inside the project) and run the command again"
            )
        inside = os.path.relpath(real, self._real_root).replace(os.sep, "/")
        found = protected_component(inside) if inside != "." else None
        if found is not None:
            raise UnsafePathError(
                f"'{self._shown(directory)}' leads into '{inside}', inside the '{found}' folder;"
                " llmpipe never writes there. Remove the symlink that leads there"
            )
        self._checked.add(directory)

    def _shown(self, path: str) -> str:
        return os.path.relpath(path, self.root).replace(os.sep, "/")
