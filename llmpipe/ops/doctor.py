"""`version`/`doctor`: what llmpipe runs on, as `dvc version` reports it for dvc.

The llmpipe and Python versions, the platform, which optional extras are
installed, and for a project: its cache folder, the link types that work there
(tried on scratch files), the remotes' kinds and the git state.
"""

from __future__ import annotations

import os
import platform
import re
import tempfile
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import TYPE_CHECKING

from ..cache.links import make_link

if TYPE_CHECKING:
    from ..project import Project

_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class SystemInfo:
    version: str
    python: str
    platform: str
    extras: dict[str, bool] = field(default_factory=dict)  # extra -> fully installed
    cache_dir: str | None = None
    link_types: tuple[str, ...] = ()
    remotes: tuple[tuple[str, str], ...] = ()  # (name, kind)
    repo: tuple[str, ...] = ()


def system_info(project: Project | None) -> SystemInfo:
    info = SystemInfo(
        version=_version(),
        python=platform.python_version(),
        platform=platform.platform(),
        extras=installed_extras(),
    )
    if project is None:
        return info
    remotes = tuple((r.name, _kind(r.url)) for r in project.config.remotes.values())
    return replace(
        info,
        cache_dir=project.cache_dir,
        link_types=working_link_types(project.cache_dir),
        remotes=remotes,
        repo=("dvc", "git") if os.path.isdir(os.path.join(project.root, ".git")) else ("dvc",),
    )


def _version() -> str:
    try:
        return metadata.version("llmpipe")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; running from a checkout)"


def installed_extras() -> dict[str, bool]:
    """Each extra of llmpipe's package: are all of its distributions installed?"""
    try:
        requires = metadata.requires("llmpipe") or []
    except metadata.PackageNotFoundError:
        return {}
    extras: dict[str, bool] = {}
    for requirement in requires:
        found = _EXTRA.search(requirement)
        if not found:
            continue
        name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
        extras[found.group(1)] = extras.get(found.group(1), True) and _installed(name)
    return dict(sorted(extras.items()))


def _installed(distribution: str) -> bool:
    if distribution == "llmpipe":
        return True  # an extra made of other extras: judged by theirs
    try:
        metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def _kind(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "local"


def working_link_types(cache_dir: str) -> tuple[str, ...]:
    """The link types that work from the cache folder (tried on scratch files there)."""
    os.makedirs(cache_dir, exist_ok=True)
    working = []
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".links-") as scratch:
        source = os.path.join(scratch, "source")
        with open(source, "wb") as handle:
            handle.write(b"llmpipe")
        for name in ("reflink", "hardlink", "symlink"):
            try:
                make_link(name, source, os.path.join(scratch, name))
            except OSError:
                continue
            working.append(name)
    return tuple(working)
