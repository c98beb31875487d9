"""The cache objects of an output: the file's, or a directory's `.dir` and its entries.

Which outputs the project uses (workspace and branches) is `llmpipe.outputs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import CacheError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..cache.odb import ObjectDB
    from ..outputs import UsedOutput
    from ..stage import HashInfo


def expand(odb: ObjectDB, info: HashInfo) -> list[str]:
    """Object ids of an output: the file's, or the `.dir` and its entries (if readable)."""
    return [oid for oid, _ in named(odb, info, "")]


def object_names(odb: ObjectDB, outs: Iterable[UsedOutput]) -> dict[str, str]:
    """Every object of `outs`, once, with the name dvc gives it (`data/f1`)."""
    names: dict[str, str] = {}
    for out in outs:
        for oid, name in named(odb, out.info, out.path):
            names.setdefault(oid, name)
    return names


def named(odb: ObjectDB, info: HashInfo, path: str) -> list[tuple[str, str]]:
    """(object id, name) of the output at `path`, as dvc names them: the output's path
    for its file or `.dir`, `path/relpath` for each entry (when the `.dir` is readable)."""
    if not info.isdir:
        return [(info.value, path)]
    try:
        entries = odb.read_manifest(info.value)
    except CacheError:
        return [(info.value, path)]
    return [(info.value, path), *((oid, f"{path}/{rel}") for rel, oid in entries)]
