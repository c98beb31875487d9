"""The value recorded for every stage run: what ran, on what, producing what, where and when.

A `RunRecord` is plain data; `LineageStore` turns it into a Parquet row. This module
imports nothing heavy so that building a record costs nothing on a no-op `repro`.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..stage import HashInfo

__all__ = [
    "ArtifactRef",
    "RunRecord",
    "RunStatus",
    "display_command",
    "environment",
    "new_id",
    "utcnow",
]

RunStatus = Literal["ran", "restored", "failed"]
STATUSES: tuple[str, ...] = ("ran", "restored", "failed")
# Lists of commands are shown joined the way a shell would run them one after another.
COMMAND_JOINER = " && "


@dataclass(frozen=True)
class ArtifactRef:
    """A file or directory a run read or wrote, by repository-relative posix path.

    `hash` is the content hash as dvc.lock records it (ending in `.dir` for a
    directory); `nfiles` is set for directories only.
    """

    path: str
    hash: str | None
    size: int | None = None
    nfiles: int | None = None

    @classmethod
    def from_hash_info(cls, path: str, info: HashInfo | None) -> ArtifactRef:
        """The reference for `path` with the hash facts of `info` (None: not hashed)."""
        if info is None:
            return cls(path, None)
        return cls(path, info.value, info.size, info.nfiles)

    @property
    def isdir(self) -> bool:
        return bool(self.hash and self.hash.endswith(".dir"))

    @property
    def short_hash(self) -> str:
        """The first 8 hex digits (plus `.dir` for directories), or '-' when unknown."""
        if not self.hash:
            return "-"
        return self.hash[:8] + (".dir" if self.isdir else "")


@dataclass(frozen=True)
class RunRecord:
    """One execution, run-cache restore or failure of one stage.

    `started_at`/`ended_at` must be timezone-aware; they are kept in UTC.
    `cmd` is the display form of the command and `cmd_json` the original
    (a JSON string or list of strings). `params` maps params file -> key -> value.
    """

    run_id: str
    batch_id: str
    stage: str
    dvcfile: str
    cmd: str
    cmd_json: str
    deps: tuple[ArtifactRef, ...]
    params: dict[str, dict[str, Any]]
    outs: tuple[ArtifactRef, ...]
    metrics: dict[str, Any]
    git_commit: str | None
    git_dirty: bool | None
    started_at: datetime
    ended_at: datetime
    duration_s: float
    exit_status: int | None
    status: RunStatus
    from_run_cache: bool
    host: str
    user: str
    llmpipe_version: str
    python_version: str
    overrides: tuple[str, ...] = ()
    error: str | None = None
    # Where the command ran: `local`, or the engine (`ray`, `slurm`) and its job id;
    # `host` is then the worker's node.
    executor: str = "local"
    job_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"run status must be one of {STATUSES}, not {self.status!r}")
        for name in ("started_at", "ended_at"):
            moment = getattr(self, name)
            if moment.tzinfo is None:
                raise ValueError(f"RunRecord.{name} must be timezone-aware, got {moment!r}")
            # Frozen: normalizing to UTC needs object.__setattr__.
            object.__setattr__(self, name, moment.astimezone(timezone.utc))
        object.__setattr__(self, "deps", tuple(self.deps))
        object.__setattr__(self, "outs", tuple(self.outs))
        object.__setattr__(self, "overrides", tuple(self.overrides))

    @classmethod
    def new(
        cls,
        *,
        stage: str,
        cmd: str | Sequence[str],
        started_at: datetime,
        ended_at: datetime,
        status: RunStatus,
        batch_id: str | None = None,
        dvcfile: str = "dvc.yaml",
        deps: Sequence[ArtifactRef] = (),
        params: dict[str, dict[str, Any]] | None = None,
        outs: Sequence[ArtifactRef] = (),
        metrics: dict[str, Any] | None = None,
        git_commit: str | None = None,
        git_dirty: bool | None = None,
        exit_status: int | None = None,
        from_run_cache: bool = False,
        overrides: Sequence[str] = (),
        error: str | None = None,
        executor: str = "local",
        job_id: str | None = None,
        host: str | None = None,
    ) -> RunRecord:
        """A record with a fresh run id and this machine's host, user and versions.

        `batch_id` defaults to a fresh id (a run of its own); the duration is
        computed from the two timestamps.
        """
        return cls(
            run_id=new_id(),
            batch_id=batch_id or new_id(),
            stage=stage,
            dvcfile=dvcfile,
            cmd=display_command(cmd),
            cmd_json=json.dumps(cmd if isinstance(cmd, str) else list(cmd)),
            deps=tuple(deps),
            params=params or {},
            outs=tuple(outs),
            metrics=metrics or {},
            git_commit=git_commit,
            git_dirty=git_dirty,
            started_at=started_at,
            ended_at=ended_at,
            duration_s=_seconds_between(started_at, ended_at),
            exit_status=exit_status,
            status=status,
            from_run_cache=from_run_cache,
            overrides=tuple(overrides),
            error=error,
            executor=executor,
            job_id=job_id,
            **{**environment(), **({"host": host} if host else {})},
        )

    @property
    def succeeded(self) -> bool:
        return self.status != "failed"

    @property
    def command(self) -> str | list[str]:
        """The command as the stage declared it: one string or a list of strings."""
        return json.loads(self.cmd_json)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: timestamps in ISO 8601, artifacts as dicts."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["ended_at"] = self.ended_at.isoformat()
        data["overrides"] = list(self.overrides)
        return data


def new_id() -> str:
    """A fresh random id (uuid4, 32 hex digits), for runs and batches.

    The bits `uuid.uuid4().hex` gives, without importing uuid (~2 ms) on every run.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


def _seconds_between(start: datetime, end: datetime) -> float:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"run times must be timezone-aware, got {start!r} and {end!r}")
    return max(0.0, (end - start).total_seconds())


def display_command(cmd: str | Sequence[str]) -> str:
    """One line showing a stage command; a list is joined with ' && '."""
    return cmd if isinstance(cmd, str) else COMMAND_JOINER.join(cmd)


@cache
def environment() -> dict[str, str]:
    """Host, user and tool versions of this process (computed once)."""
    return {
        "host": _host_name(),
        "user": _user_name(),
        "llmpipe_version": _llmpipe_version(),
        "python_version": "{}.{}.{}".format(*sys.version_info[:3]),
    }


def _host_name() -> str:
    # gethostname(2) is uname's nodename on POSIX; `socket` costs ~9 ms to import.
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry and no USER variable (some containers): fall back to the uid.
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _llmpipe_version() -> str:
    version = getattr(sys.modules.get("llmpipe"), "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata

    try:
        return metadata.version("llmpipe")
    except metadata.PackageNotFoundError:
        return "0+unknown"
