"""Find a metrics, params or plots file's bytes at a revision (parsing: `llmpipe.metrics`).

`read_tracked` looks in git, else (for a cached output) in the cache through
the hash the revision's dvc.lock records. Every failure is a `FileProblem`
value so one bad file never hides the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FileProblem

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..revfs import Tree
    from .pipeline import TrackedFile


def read_tracked(tree: Tree, tracked: TrackedFile, odb: ObjectDB | None, rev: str) -> bytes:
    """The bytes of `tracked` at `rev`; FileProblem when neither git nor the cache has it."""
    content = tree.read_bytes(tracked.path)
    if content is not None:
        return content
    info = tracked.hash_info
    if info is not None and not info.isdir and odb is not None and odb.exists(info.value):
        with open(odb.oid_path(info.value), "rb") as handle:
            return handle.read()
    if info is not None:
        raise FileProblem(
            f"'{tracked.path}' at {rev} is not in the cache ({info.name} {info.value});"
            " run 'llmpipe pull' (or 'dvc pull') to fetch it"
        )
    if tracked.cached and tree.commit is not None:
        raise FileProblem(
            f"'{tracked.path}' at {rev} is a cached output with no dvc.lock entry;"
            " run the pipeline and commit dvc.lock"
        )
    raise FileProblem(f"'{tracked.path}' does not exist at {rev}")
