"""The executor for a name: `ray`, `slurm`, or `process` (a local worker process)."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

from ..errors import ExecutorError, RemoteConfigError
from .driver import ClusterExecutor, Engine

if TYPE_CHECKING:
    from ..project import Project


def open_executor(name: str, project: Project, retries: int = 0) -> ClusterExecutor:
    """A ClusterExecutor for `name` over the project's default remote; ExecutorError
    for an unknown name or a missing engine, before any stage runs."""
    try:
        remote = project.config.remote(None)
    except RemoteConfigError as exc:
        raise ExecutorError(
            f"the {name} executor moves data through the project's remote: {exc}"
        ) from None
    return ClusterExecutor(_engine(name, project), remote, retries)


def _engine(name: str, project: Project) -> Engine:
    if name == "process":
        from .process import ProcessEngine

        scratch = os.path.join(tempfile.gettempdir(), "llmpipe-process-worker")
        return ProcessEngine(scratch)
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(project.config.get("llmpipe", "ray_address"))
    if name == "slurm":
        from .slurm_engine import SlurmEngine

        return SlurmEngine(project.config)
    raise ExecutorError(f"unknown executor '{name}'; use local, ray or slurm")
