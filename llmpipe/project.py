"""The project: where it lives, its settings, and the services built on them.

A `Project` is a value with no verbs: the root, the config, the object store,
the state DB, the lineage store and the stage loader, each built on first use.
The engines below (`run`, `remote`, `registry`) and the verbs above (`ops`)
receive it; nothing here knows about them.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING

from . import parsememo
from .config import Config, load_config
from .errors import NotAProjectError

if TYPE_CHECKING:
    from .cache.linkdb import LinkDB
    from .cache.odb import ObjectDB
    from .cache.state import StateDB
    from .dvcignore import DvcIgnore
    from .lineage.store import LineageStore
    from .stage import Stage

DVC_DIR = ".dvc"
LLMPIPE_DIR = ".llmpipe"
# What in .llmpipe/ belongs to this machine: the hash cache, scratch space, the lineage
# store, the audit trail (it travels through remotes, not git), local secrets, this
# clone's memory without git, sweep records. The rest (policy.*, root.yaml,
# registry.yaml, config) is meant to be committed.
MACHINE_LOCAL = ("/state.db*", "/tmp", "/lineage", "/audit", "/config.local", "/local", "/sweeps")
# A .gitignore llmpipe writes itself ignores itself too, so a checkout stays clean;
# `llmpipe init` writes one without that line, to be committed with .dvc/.
_LAZY_GITIGNORE = (
    "# Written by llmpipe: its machine-local files. Commit policy.*, root.yaml and\n"
    "# registry.yaml when you create them; 'llmpipe init' writes a committable copy.\n"
    + "".join(f"{entry}\n" for entry in ("/.gitignore", *MACHINE_LOCAL))
)


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


class Project:
    """An llmpipe (and DVC) project rooted at `root`; close it (or use `with`) when done."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.dvc_dir = os.path.join(self.root, DVC_DIR)
        self.llmpipe_dir = os.path.join(self.root, LLMPIPE_DIR)
        # Messages for the user that are not errors (an audit record that could not be
        # written); the library never prints, the CLI shows them when a command ends.
        self.notices: list[str] = []
        if not os.path.isdir(self.dvc_dir):
            raise NotAProjectError(
                f"'{self.root}' is not an llmpipe project: run 'llmpipe init' first"
            )
        _keep_own_dir_ignored(self.llmpipe_dir)
        # Parsed YAML of this project is remembered (machine-local, under tmp/).
        parsememo.use(os.path.join(self.llmpipe_dir, "tmp", "parsed"))

    @classmethod
    def discover(cls, start: str = ".") -> Project:
        return cls(find_root(start))

    @cached_property
    def config(self) -> Config:
        return load_config(self.dvc_dir, self.llmpipe_dir)

    @cached_property
    def cache_dir(self) -> str:
        return cache_dir_of(self.dvc_dir, self.config)

    @property
    def runs_dir(self) -> str:
        """The run-cache (DVC's `runs/` beside `files/`)."""
        return os.path.join(self.cache_dir, "runs")

    @cached_property
    def tmp_dir(self) -> str:
        path = os.path.join(self.dvc_dir, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    @cached_property
    def odb(self) -> ObjectDB:
        return object_db(self.cache_dir, self.config)

    @cached_property
    def state(self) -> StateDB:
        from .cache.state import SqliteState

        os.makedirs(self.llmpipe_dir, exist_ok=True)
        return SqliteState(os.path.join(self.llmpipe_dir, "state.db"))

    @cached_property
    def links(self) -> LinkDB:
        """The outputs llmpipe put in the workspace (a checkout takes back unused ones)."""
        from .cache.linkdb import LinkDB

        os.makedirs(self.llmpipe_dir, exist_ok=True)
        return LinkDB(os.path.join(self.llmpipe_dir, "state.db"), self.root, self.ignore)

    @cached_property
    def ignore(self) -> DvcIgnore:
        """The `.dvcignore` rules every walk of the workspace follows."""
        from .dvcignore import DvcIgnore

        return DvcIgnore.at(self.root)

    @cached_property
    def lineage(self) -> LineageStore:
        from .lineage.store import LineageStore

        return LineageStore(os.path.join(self.llmpipe_dir, "lineage"))

    def use_lineage(self, store: LineageStore) -> None:
        """Record stage runs in `store` instead (a sweep job records in the user's)."""
        self.__dict__["lineage"] = store

    def stages(self) -> list[Stage]:
        """Every stage of every dvc.yaml and every `.dvc` data source of the project."""
        from .spec import load_stages

        return load_stages(self.root)

    def close(self) -> None:
        if "state" in self.__dict__:
            self.state.close()
        if "links" in self.__dict__:
            self.links.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def cache_dir_of(dvc_dir: str, config: Config) -> str:
    """The cache folder of the project whose `.dvc` folder is `dvc_dir`."""
    configured = config.cache_dir
    if configured:
        return os.path.normpath(os.path.join(dvc_dir, configured))
    return os.path.join(dvc_dir, "cache")


def object_db(cache_dir: str, config: Config) -> ObjectDB:
    """The object store of the cache at `cache_dir`, in the configured hash's folder."""
    from .cache.odb import ObjectDB

    return ObjectDB(os.path.join(cache_dir, "files", config.hash_name), config.hash_name)


def read_only_view(root: str) -> tuple[Config, ObjectDB]:
    """The settings and object store of the project at `root`, opened without writing
    anything into it (a `Project` creates `.llmpipe/`); NotAProjectError when none."""
    dvc_dir = os.path.join(root, DVC_DIR)
    if not os.path.isdir(dvc_dir):
        raise NotAProjectError(f"'{root}' is not an llmpipe or DVC project (it has no .dvc folder)")
    config = load_config(dvc_dir, os.path.join(root, LLMPIPE_DIR))
    return config, object_db(cache_dir_of(dvc_dir, config), config)


def _keep_own_dir_ignored(llmpipe_dir: str) -> None:
    """Create `.llmpipe/` with its .gitignore before anything writes into it.

    Every command may write there (the state DB, even for `status`), and a project
    set up by `dvc init` has no `.llmpipe/`: without this, `git status` would show it.
    One stat when it exists; a read-only checkout is left alone.
    """
    path = os.path.join(llmpipe_dir, ".gitignore")
    if os.path.exists(path):
        return
    try:
        os.makedirs(llmpipe_dir, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(_LAZY_GITIGNORE)
    except OSError:
        pass  # read-only, or written meanwhile by another process: nothing to keep clean


def committable_gitignore() -> str:
    """The `.llmpipe/.gitignore` that `llmpipe init` writes, to be committed."""
    return "".join(f"{entry}\n" for entry in MACHINE_LOCAL)
