"""The project: where it lives, its settings, and the services built on them.

`Repo` wires the cache, the state DB, the lineage store and the loaded stages
together; the operations themselves live in their own modules and receive
plain values from here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .config import Config, load_config
from .errors import NotAProjectError

if TYPE_CHECKING:
    from .cache.gc import GcResult
    from .cache.odb import ObjectDB
    from .cache.state import StateDB
    from .dataops import Added, CheckoutSummary
    from .graph import Graph
    from .lineage.store import LineageStore
    from .run.reproduce import StatusEntry
    from .run.scheduler import ReproResult
    from .stage import Stage

DVC_DIR = ".dvc"
LLMPIPE_DIR = ".llmpipe"


def find_root(start: str) -> str:
    """The nearest directory at or above `start` holding a `.dvc` folder."""
    current = os.path.abspath(start)
    while True:
        if os.path.isdir(os.path.join(current, DVC_DIR)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            raise NotAProjectError(
                f"'{start}' is not inside an llmpipe project: run 'llmpipe init' first"
            )
        current = parent


class Repo:
    """An llmpipe (and DVC) project rooted at `root`."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.dvc_dir = os.path.join(self.root, DVC_DIR)
        self.llmpipe_dir = os.path.join(self.root, LLMPIPE_DIR)
        if not os.path.isdir(self.dvc_dir):
            raise NotAProjectError(
                f"'{self.root}' is not an llmpipe project: run 'llmpipe init' first"
            )

    @classmethod
    def discover(cls, start: str = ".") -> Repo:
        return cls(find_root(start))

    @cached_property
    def config(self) -> Config:
        return load_config(self.dvc_dir, self.llmpipe_dir)

    @cached_property
    def cache_dir(self) -> str:
        configured = self.config.cache_dir
        if configured:
            return os.path.normpath(os.path.join(self.dvc_dir, configured))
        return os.path.join(self.dvc_dir, "cache")

    @cached_property
    def tmp_dir(self) -> str:
        path = os.path.join(self.dvc_dir, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    @cached_property
    def odb(self) -> ObjectDB:
        from .cache.odb import ObjectDB

        return ObjectDB(
            os.path.join(self.cache_dir, "files", self.config.hash_name), self.config.hash_name
        )

    @cached_property
    def state(self) -> StateDB:
        from .cache.state import SqliteState

        os.makedirs(self.llmpipe_dir, exist_ok=True)
        return SqliteState(os.path.join(self.llmpipe_dir, "state.db"))

    @cached_property
    def lineage(self) -> LineageStore:
        from .lineage.store import LineageStore

        return LineageStore(os.path.join(self.llmpipe_dir, "lineage"))

    def stages(self) -> list[Stage]:
        """Every stage of every dvc.yaml and every `.dvc` data source of the project."""
        from .spec import load_stages

        return load_stages(self.root)

    def close(self) -> None:
        if "state" in self.__dict__:
            self.state.close()

    # The operations: thin wrappers so that `Repo(path).reproduce()` is the API.

    def reproduce(self, targets: Sequence[str] = (), **options: Any) -> ReproResult:
        """Bring `targets` (default: all stages) up to date; see `ReproRequest` for options.

        `reporter=` and `progress=` receive events; nothing is printed.
        """
        from .run.reproduce import ReproRequest, reproduce

        reporter = options.pop("reporter", None)
        progress = options.pop("progress", None)
        request = ReproRequest(targets=tuple(targets), **options)
        return reproduce(self, request, reporter, progress)

    def status(self, targets: Sequence[str] = ()) -> list[StatusEntry]:
        """Per selected stage, the reasons it would run (empty when up to date)."""
        from .run.reproduce import status

        return status(self, targets)

    def add(self, paths: Sequence[str]) -> list[Added]:
        from .dataops import add

        return add(self, paths)

    def checkout(
        self, targets: Sequence[str] = (), relink: bool = False, force: bool = False
    ) -> CheckoutSummary:
        """Restore recorded outputs; `force` discards workspace changes not in the cache."""
        from .dataops import checkout_outputs

        return checkout_outputs(self, targets, relink=relink, force=force)

    def gc(self, workspace: bool = True, dry: bool = False) -> GcResult:
        from .dataops import collect_garbage

        return collect_garbage(self, workspace, dry=dry)

    def graph(self) -> Graph:
        from .graph import build_graph

        return build_graph(self.stages())

    def __enter__(self) -> Repo:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
