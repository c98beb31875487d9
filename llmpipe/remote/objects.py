"""The cache objects of an output: the file's, or a directory's `.dir` and its entries.

Which outputs the project uses (workspace and branches) is `llmpipe.outputs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CacheError

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..stage import HashInfo


def expand(odb: ObjectDB, info: HashInfo) -> list[str]:
    """Object ids of an output: the file's, or the `.dir` and its entries (if readable)."""
    if not info.isdir:
        return [info.value]
    try:
        entries = odb.read_manifest(info.value)
    except CacheError:
        return [info.value]
    return [info.value, *(oid for _, oid in entries)]
