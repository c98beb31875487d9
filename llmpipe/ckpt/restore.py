"""Restore a checkpoint snapshot from a remote into the workspace, verified."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cache.checkout import checkout
from ..errors import CheckpointError
from ..pathguard import PathGuard
from .objects import fetch_tree

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from ..project import Project
    from ..remote.layout import Layout
    from ..stage import HashInfo


def restore_tree(
    project: Project,
    layout: Layout,
    remote: RemoteConfig,
    info: HashInfo,
    directory: str,
    scratch: str,
) -> None:
    """Fetch `info` (every object verified) and make `directory` hold exactly it.

    CheckpointError, before the workspace is touched, when an object is missing
    or corrupt on the remote.
    """
    fetch_tree(project.odb, layout, remote, info, scratch)
    result = checkout(
        project.odb,
        info,
        directory,
        project.config.link_types,
        project.state,
        guard=PathGuard(project.root),
    )
    if result.missing:
        raise CheckpointError(f"checkpoint objects are missing from the cache: {result.missing}")
