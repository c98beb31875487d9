"""`repro --no-checkout`: outputs recorded in dvc.lock and kept in the cache, not written
to the workspace.

A stage run on a worker (or restored from the run-cache) then leaves its outputs in
the cache only. Stages downstream must judge and ship such a path by its recorded
hash, never by what the workspace holds there (nothing, or an older version): the
`StandIns` of a run answer for those paths before the workspace is looked at.
"""

from __future__ import annotations

import os
import threading

from ..cache.checkout import in_cache
from ..cache.odb import ObjectDB
from ..errors import RunError
from ..lockfile import LockWriter, hashes_in
from ..stage import HashInfo, Stage


class StandIns:
    """Repository paths -> the hash of the output that stands there in the cache."""

    def __init__(self, odb: ObjectDB) -> None:
        self.odb = odb
        self._hashes: dict[str, HashInfo] = {}
        self._mutex = threading.Lock()

    def put(self, relpath: str, info: HashInfo) -> None:
        with self._mutex:
            self._hashes[relpath] = info

    def drop(self, relpath: str) -> None:
        with self._mutex:
            self._hashes.pop(relpath, None)

    def owner(self, relpath: str) -> tuple[str, HashInfo] | None:
        """The recorded output at `relpath` or holding it (a directory), with its hash."""
        with self._mutex:
            for path, info in self._hashes.items():
                if relpath == path or relpath.startswith(path.rstrip("/") + "/"):
                    return path, info
        return None

    def inside(self, relpath: str) -> list[tuple[str, HashInfo]]:
        """Recorded outputs strictly below the directory `relpath`."""
        prefix = relpath.rstrip("/") + "/"
        with self._mutex:
            return [(p, info) for p, info in self._hashes.items() if p.startswith(prefix)]

    def get(self, relpath: str) -> HashInfo | None:
        """The hash of `relpath`: an output itself, or a file inside an output directory;
        RunError for a directory holding such outputs (the workspace would lie about it)."""
        found = self.owner(relpath)
        if found is None:
            below = self.inside(relpath)
            if below:
                raise RunError(
                    f"'{relpath}' holds '{below[0][0]}', which --no-checkout left in the"
                    " cache; run without --no-checkout, or 'llmpipe checkout' it first"
                )
            return None
        path, info = found
        if path == relpath:
            return info
        inner = relpath[len(path.rstrip("/")) + 1 :]
        for entry, oid in self.odb.read_manifest(info.value):
            if entry == inner:
                size = os.path.getsize(self.odb.oid_path(oid))
                return HashInfo(info.name, oid, size=size)
        raise RunError(
            f"'{relpath}' lies inside '{path}', which --no-checkout left in the cache, and is"
            " not a file of it; run without --no-checkout, or 'llmpipe checkout' it first"
        )


def prime(stand_ins: StandIns, root: str, stages: list[Stage]) -> None:
    """Outputs an earlier `--no-checkout` run recorded but left in the cache: absent from
    the workspace, their recorded object complete in the cache."""
    locks = LockWriter(root)
    for stage in stages:
        if stage.is_data_source or stage.frozen:
            continue
        recorded = hashes_in(locks.entry(stage.lockfile, stage.name) or {}, "outs")
        for path, info in recorded.items():
            relpath = stage.repo_path(path)
            if not os.path.lexists(os.path.join(root, relpath)) and in_cache(stand_ins.odb, info):
                stand_ins.put(relpath, info)
