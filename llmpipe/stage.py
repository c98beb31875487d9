"""Frozen value objects describing stages, their inputs and outputs.

Paths inside `Dep`, `Out` and `ParamRef` are kept exactly as written in
dvc.yaml (relative to the stage's working directory), because dvc.lock records
them that way. `Stage.repo_path()` turns one into a repository-relative path.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Literal

OutKind = Literal["out", "metric", "plot"]
# What dvc records for a dependency named by URL (HTTP's checksum header, S3's ETag).
EXTERNAL_HASH_NAMES = ("checksum", "etag")


def is_url(path: str) -> bool:
    """A dependency named by URL (`https://…`, `s3://…`): an external dependency."""
    return "://" in path


@dataclass(frozen=True)
class HashInfo:
    """The content hash of a file or directory, as dvc.lock records it.

    `value` ends in `.dir` for directories (the hash of their manifest).
    """

    name: str
    value: str
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False

    @property
    def isdir(self) -> bool:
        return self.value.endswith(".dir")

    def to_lock_dict(self) -> dict[str, Any]:
        """The `hash`/`md5`/`size`/`nfiles` part of a dvc.lock entry, in DVC's order.

        An external dependency's `checksum`/`etag` is still written under `hash: md5`,
        as dvc writes it.
        """
        if self.name == "md5-dos2unix":  # DVC 2's entry, kept as dvc 3 keeps it
            return {"md5": self.value, **self.facts()}
        kind = "md5" if self.name in EXTERNAL_HASH_NAMES else self.name
        return {"hash": kind, self.name: self.value, **self.facts()}

    def facts(self) -> dict[str, Any]:
        """`size`, `nfiles` and `isexec` where known, in the order DVC writes them."""
        entry: dict[str, Any] = {}
        if self.size is not None:
            entry["size"] = self.size
        if self.nfiles is not None:
            entry["nfiles"] = self.nfiles
        if self.isexec:
            entry["isexec"] = True
        return entry

    @classmethod
    def from_lock_dict(cls, entry: dict[str, Any]) -> HashInfo | None:
        name = entry.get("hash")
        if name is None:  # written by DVC 2: its md5 hashed text files after CRLF -> LF
            name = "md5-dos2unix" if "md5" in entry else "md5"
        elif name == "md5" and "md5" not in entry:
            name = next((n for n in EXTERNAL_HASH_NAMES if n in entry), name)
        value = entry.get(name) or entry.get("md5")
        if not value:
            return None
        return cls(
            name=name,
            value=str(value),
            size=entry.get("size"),
            nfiles=entry.get("nfiles"),
            isexec=bool(entry.get("isexec", False)),
        )


@dataclass(frozen=True)
class Dep:
    """A stage dependency: a path in the workspace or a URL."""

    path: str


@dataclass(frozen=True)
class Out:
    """A stage output (`outs`, `metrics` or `plots`) and its options."""

    path: str
    cache: bool = True
    persist: bool = False
    kind: OutKind = "out"
    remote: str | None = None
    push: bool = True
    desc: str | None = None


@dataclass(frozen=True)
class ParamRef:
    """Params a stage tracks in one params file; empty `keys` means the whole file."""

    file: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resources:
    """What one run of a stage needs from the machine it runs on (`meta.llmpipe.resources`).

    `memory` is in bytes and `time` in seconds; None means the engine's default.
    """

    cpus: float | None = None
    gpus: int | None = None
    memory: int | None = None
    time: int | None = None

    @property
    def empty(self) -> bool:
        return self == Resources()


@dataclass(frozen=True)
class Stage:
    """One stage of a pipeline, or a data source tracked by a `.dvc` file.

    `dvcfile` is the repository-relative path of the file that defines it and
    `wdir` the repository-relative working directory its command runs in.
    """

    name: str
    dvcfile: str
    wdir: str = "."
    cmd: str | tuple[str, ...] | None = None
    deps: tuple[Dep, ...] = ()
    params: tuple[ParamRef, ...] = ()
    outs: tuple[Out, ...] = ()
    frozen: bool = False
    always_changed: bool = False
    desc: str | None = None
    meta: Any = None
    # From `meta.llmpipe`: what a run needs, and the executor chosen for this stage.
    resources: Resources = field(default_factory=Resources)
    executor: str | None = None
    lineno: int | None = field(default=None, compare=False)

    @property
    def is_data_source(self) -> bool:
        """A `.dvc` file: tracked data with no command."""
        return self.cmd is None

    @property
    def is_callback(self) -> bool:
        """dvc's rule: a command with no deps (params count as deps) and no outs is
        always changed, so it runs on every `repro`."""
        return self.cmd is not None and not (self.deps or self.params or self.outs)

    @property
    def address(self) -> str:
        """How users name the stage: `train`, or `sub/dvc.yaml:train` outside the root."""
        if self.is_data_source or self.dvcfile == "dvc.yaml":
            return self.name if not self.is_data_source else self.dvcfile
        return f"{self.dvcfile}:{self.name}"

    @property
    def lockfile(self) -> str:
        """Repository-relative path of the lock file recording this stage."""
        if self.is_data_source:
            return self.dvcfile
        return posixpath.join(posixpath.dirname(self.dvcfile), "dvc.lock")

    @property
    def commands(self) -> tuple[str, ...]:
        if self.cmd is None:
            return ()
        return (self.cmd,) if isinstance(self.cmd, str) else self.cmd

    def repo_path(self, path: str) -> str:
        """A dep/out/params path as a normalized repository-relative posix path.

        A path outside the repository comes back as `../x` or absolute, a URL as written.
        """
        if is_url(path):
            return path
        return posixpath.normpath(posixpath.join(self.wdir, path))

    def in_repo(self, path: str) -> bool:
        """dvc's `is_in_repo`: neither a URL, nor absolute, nor above the repository."""
        if is_url(path) or posixpath.isabs(path):
            return False
        joined = self.repo_path(path)
        return joined != ".." and not joined.startswith("../")

    @property
    def cached_outs(self) -> tuple[Out, ...]:
        return tuple(out for out in self.outs if out.cache)
