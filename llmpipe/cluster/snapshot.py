"""The project's files as one `.dir` object: what a worker checks out to run a stage.

It holds what git tracks or would track (the commit plus uncommitted changes),
hashed through the state DB and copied into the cache, so only content the remote
lacks is ever sent. Outputs (git-ignored) are not in it: they travel as deps.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from ..cache.build import build_listed
from ..cache.odb import ObjectDB
from ..cache.save import add_copies
from ..cache.state import StateDB
from ..errors import ExecutorError
from ..scm import list_files
from ..stage import HashInfo

# Never shipped: dvc's and llmpipe's own folders (config, caches, state, lineage); the
# worker's commands get the project's files, and the worker has a cache of its own.
_PRIVATE = (".dvc/", ".llmpipe/", ".git/")


@dataclass(frozen=True)
class Snapshot:
    info: HashInfo
    files: frozenset[str]
    executables: tuple[str, ...]

    def covers(self, relpath: str) -> bool:
        """True when the snapshot holds `relpath` or a file below it."""
        prefix = relpath.rstrip("/") + "/"
        return relpath in self.files or any(f.startswith(prefix) for f in self.files)


def snapshot(root: str, odb: ObjectDB, state: StateDB) -> Snapshot:
    """Hash and cache the workspace's git files; ExecutorError outside a git repository."""
    listed = list_files(root)
    if listed is None:
        raise ExecutorError(
            f"'{root}' is not a git work tree: a remote executor ships the project's git"
            " files to its workers; run 'git init' and commit the project"
        )
    files = []
    for rel in listed:
        if rel.startswith(_PRIVATE):
            continue
        try:
            st = os.stat(os.path.join(root, rel))
        except OSError:
            continue  # deleted but still in the index
        if stat.S_ISREG(st.st_mode):
            files.append((rel, st))
    info, manifest = build_listed(root, files, odb.hash_name, state)
    if not odb.exists(info.value):
        add_copies(odb, root, info, manifest)
    executables = tuple(rel for rel, _v, _s, is_exec in manifest.entries if is_exec)
    return Snapshot(info, frozenset(rel for rel, _ in files), executables)
