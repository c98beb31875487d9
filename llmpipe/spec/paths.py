"""Checks that paths named in dvc.yaml and .dvc files stay inside the repository."""

from __future__ import annotations

import posixpath

from llmpipe.pathguard import protected_component

# Linux's limits (NAME_MAX, PATH_MAX); beyond them every file operation fails.
NAME_MAX = 255
PATH_MAX = 4096


def checked_path(wdir: str, path: str, what: str) -> str:
    """`path` (relative to repo-relative `wdir`) as a normalized repo-relative path.

    Raises ValueError, with a message saying how to fix it, when `path` is
    empty, absolute, a URL, longer than the filesystem allows, leaves the
    repository through `..`, or lies inside
    `.git`, `.dvc` or `.llmpipe` (where a write could run code or change settings).
    """
    if not path:
        raise ValueError(f"'{what}' has an empty path")
    if "://" in path:
        raise ValueError(
            f"'{what}' path '{path}' is a URL; external dependencies and outputs are not"
            " supported, track a local copy instead"
        )
    if posixpath.isabs(path) or (len(path) > 1 and path[1] == ":"):
        raise ValueError(
            f"'{what}' path '{path}' is absolute; use a path relative to the stage's"
            " working directory, inside the repository"
        )
    joined = posixpath.normpath(posixpath.join(wdir, path))
    if joined == ".." or joined.startswith("../"):
        raise ValueError(
            f"'{what}' path '{path}' points outside the repository (it resolves to"
            f" '{joined}'); keep every path inside the project"
        )
    too_long = next((part for part in joined.split("/") if len(part.encode()) > NAME_MAX), None)
    if too_long is not None or len(joined.encode()) > PATH_MAX:
        what_is_long = f"a name of {len(too_long.encode())} bytes" if too_long else "its length"
        raise ValueError(
            f"'{what}' path '{path[:60]}…' is longer than the filesystem allows ({what_is_long};"
            f" at most {NAME_MAX} bytes a name, {PATH_MAX} in all); use a shorter path"
        )
    found = protected_component(joined)
    if found is not None:
        raise ValueError(
            f"'{what}' path '{path}' is inside the '{found}' folder, which belongs to git or"
            " llmpipe; llmpipe never reads or writes data there. Track a path outside it"
        )
    return joined
