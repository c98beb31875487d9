"""What crosses the wire between the driver and a worker: plain, picklable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..config import RemoteConfig
from ..stage import HashInfo, Stage


@dataclass(frozen=True)
class StageTask:
    """One stage to run on a worker.

    `workspace` is the `.dir` object of the project's files at its commit plus
    uncommitted changes (those git tracks or would track); `deps` are the stage's
    inputs outside it, by repository path and hash; `executables` the workspace files
    to mark executable. Every object is on `remote` before the task is sent.
    """

    task_id: str
    stage: Stage
    workspace: HashInfo
    deps: dict[str, HashInfo]
    remote: RemoteConfig
    hash_name: str = "md5"
    executables: tuple[str, ...] = ()
    git_commit: str | None = None
    # The stage's inputs as its lock entry records them (deps by their path in dvc.yaml),
    # so the worker can leave a run-cache entry on the remote beside the outputs.
    dep_hashes: dict[str, HashInfo] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskResult:
    """What a worker did: outputs by path (as the stage writes them), or the error."""

    out_hashes: dict[str, HashInfo] = field(default_factory=dict)
    exit_status: int | None = 0
    error: str | None = None
    node: str = ""
    started: float = 0.0
    ended: float = 0.0
    bytes_fetched: int = 0
    bytes_pushed: int = 0
    objects_fetched: int = 0
    fetched_oids: list[str] = field(default_factory=list)
    # What the command printed (stdout and stderr), its last OUTPUT_LIMIT bytes.
    output: str = ""


OUTPUT_LIMIT = 64 * 1024
