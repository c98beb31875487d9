"""Checks that paths named in dvc.yaml and .dvc files stay inside the repository."""

from __future__ import annotations

import posixpath

from llmpipe.pathguard import protected_component

# Linux's limits (NAME_MAX, PATH_MAX); beyond them every file operation fails.
NAME_MAX = 255
PATH_MAX = 4096
# URL schemes a dependency may name (dvc's external dependencies), read through storage.
URL_SCHEMES = ("http", "https", "s3", "ssh", "gs", "gcs", "azure", "az")


def checked_path(
    wdir: str, path: str, what: str, *, outside: bool = False, url: bool = False
) -> str:
    """`path` (relative to repo-relative `wdir`) as a normalized repo-relative path.

    Raises ValueError, with a message saying how to fix it, when `path` is
    empty, absolute, a URL, longer than the filesystem allows, leaves the
    repository through `..`, or lies inside
    `.git`, `.dvc` or `.llmpipe` (where a write could run code or change settings).
    As dvc does, `outside` accepts absolute paths and paths above the repository
    (`../src`, returned as `../src`), and `url` accepts a URL (returned as written).
    """
    if not path:
        raise ValueError(f"'{what}' has an empty path")
    if "://" in path:
        return _checked_url(path, what, url)
    if posixpath.isabs(path) or (len(path) > 1 and path[1] == ":"):
        if outside:
            return _within_limits(posixpath.normpath(path), path, what)
        raise ValueError(
            f"'{what}' path '{path}' is absolute; use a path relative to the stage's"
            " working directory, inside the repository"
        )
    joined = _within_limits(posixpath.normpath(posixpath.join(wdir, path)), path, what)
    if joined == ".." or joined.startswith("../"):
        if outside:
            return joined
        raise ValueError(
            f"'{what}' path '{path}' points outside the repository (it resolves to"
            f" '{joined}'); keep every path inside the project"
        )
    found = protected_component(joined)
    if found is not None:
        raise ValueError(
            f"'{what}' path '{path}' is inside the '{found}' folder, which belongs to git or"
            " llmpipe; llmpipe never reads or writes data there. Track a path outside it"
        )
    return joined


def _within_limits(normalized: str, path: str, what: str) -> str:
    """`normalized`, unless a name or the whole is longer than the filesystem allows."""
    too_long = next((p for p in normalized.split("/") if len(p.encode()) > NAME_MAX), None)
    if too_long is not None or len(normalized.encode()) > PATH_MAX:
        what_is_long = f"a name of {len(too_long.encode())} bytes" if too_long else "its length"
        raise ValueError(
            f"'{what}' path '{path[:60]}…' is longer than the filesystem allows ({what_is_long};"
            f" at most {NAME_MAX} bytes a name, {PATH_MAX} in all); use a shorter path"
        )
    return normalized


def _checked_url(path: str, what: str, allowed: bool) -> str:
    scheme = path.split("://", 1)[0].lower()
    if allowed and scheme in URL_SCHEMES:
        return path
    if allowed:
        raise ValueError(
            f"'{what}' URL '{path}' has an unsupported scheme '{scheme}://'"
            f" (supported: {', '.join(s + '://' for s in URL_SCHEMES)})"
        )
    raise ValueError(
        f"'{what}' path '{path}' is a URL; only dependencies may be URLs,"
        " track a local copy instead"
    )
