"""What the run modules need from the repository, handed down as one plain value."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..cache.linkdb import LinkDB
from ..cache.odb import ObjectDB
from ..cache.state import StateDB
from ..dvcignore import DvcIgnore
from ..errors import SpecError
from ..hashing import LEGACY_MD5
from ..pathguard import PathGuard
from ..progress import NoProgress, Progress
from ..stage import ParamRef, Stage

if TYPE_CHECKING:
    from ..project import Project
    from .standins import StandIns


@dataclass
class RunContext:
    """What stages need while they are checked and run: caches, state, options."""

    root: str
    odb: ObjectDB
    state: StateDB
    hash_name: str
    link_types: tuple[str, ...]
    runs_dir: str
    progress: Progress = field(default_factory=NoProgress)
    ignore: DvcIgnore | None = None  # the `.dvcignore` rules walks of directories follow
    links: LinkDB | None = None  # records the outputs written (for checkout's "unused")
    tmp_dir: str = ""  # `.dvc/tmp`, where dvc's rwlock lives
    # DVC 2's cache (`<cache>/ab/cdef…`), holding outputs whose lock entry has no `hash:`.
    legacy_odb: ObjectDB | None = None
    # Wraps each execution of a stage's command, given the stage and its inputs (the lock
    # entry without outs): checkpoint streaming and resume (`llmpipe.ckpt`), set by `ops`.
    around_command: Callable[[Stage, dict[str, Any]], AbstractContextManager[None]] | None = None
    # `repro --no-checkout`: outputs recorded but left in the cache (None: a normal run).
    stand_ins: StandIns | None = None
    _params_cache: dict[str, Any] = field(default_factory=dict)
    _mutex: threading.Lock = field(default_factory=threading.Lock)
    guard: PathGuard = field(init=False)

    def __post_init__(self) -> None:
        # Where run-cache restores may write; shared by every stage of the run.
        self.guard = PathGuard(self.root)

    def abspath(self, stage: Stage, path: str) -> str:
        return os.path.join(self.root, stage.repo_path(path))

    def use_params(self, relpath: str, data: dict[str, Any]) -> None:
        """Read the params file `relpath` as `data` (status: params.yaml as composed)."""
        with self._mutex:
            self._params_cache[relpath] = data

    def params_file(self, stage: Stage, ref: ParamRef) -> dict[str, Any]:
        """A params file's content, read once per run (they do not change mid-run)."""
        from ..spec import read_params_file

        relpath = stage.repo_path(ref.file)
        with self._mutex:
            if relpath not in self._params_cache:
                path = os.path.join(self.root, relpath)
                if not os.path.exists(path):
                    raise SpecError(
                        f"stage '{stage.address}': params file '{relpath}' does not exist"
                    )
                self._params_cache[relpath] = read_params_file(path)
            return self._params_cache[relpath]


def run_context(project: Project, progress: Progress | None = None) -> RunContext:
    """What the run modules need of `project`."""
    return RunContext(
        root=project.root,
        odb=project.odb,
        state=project.state,
        hash_name=project.config.hash_name,
        link_types=project.config.link_types,
        runs_dir=project.runs_dir,
        progress=progress or NoProgress(),
        ignore=project.ignore,
        links=project.links,
        tmp_dir=project.tmp_dir,
        legacy_odb=ObjectDB(project.cache_dir, LEGACY_MD5),
    )
