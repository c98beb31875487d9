"""`gc -c`: remove from a remote the objects that nothing kept uses, as dvc's `gc -c` does.

Only the object folders are looked at (`files/md5/xx/…`, or an encrypted remote's
`llmpipe-encrypted/xx/…`): llmpipe's own files under `llmpipe/` and anything else
on the remote stay. A used directory keeps its manifest and every file it lists;
the manifest is read from the cache, else from the remote, and when it cannot be
read at all nothing is removed (its files cannot be told from garbage).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from ..cache.gc import GcResult
from ..errors import CacheError, CryptoError, RemoteError
from ..stage import HashInfo

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from ..project import Project
    from .layout import Layout


class Keeper(Protocol):
    """Files on the remote beside the objects that keep some of them (checkpoint records)."""

    def needed(self, layout: Layout) -> list[HashInfo]:
        """What they keep; read after the objects are listed, so an object uploaded
        meanwhile is either unlisted or already announced."""

    def commit(self) -> None:
        """Remove what they planned to remove, before any object goes."""


def gc_remote(
    repo: Project,
    remote: RemoteConfig,
    used: Iterable[HashInfo],
    *,
    dry: bool = False,
    jobs: int | None = None,
    keeper: Keeper | None = None,
) -> GcResult:
    """Remove every object of `remote` that `used` (or `keeper`) does not name
    (`dry`: only count)."""
    from .backends import translated
    from .ops import default_jobs, open_layout

    layout = open_layout(repo, remote, create=False)
    try:
        with translated(remote):
            stored = [p for p in layout.backend.list_files(layout.prefix) if _is_object(layout, p)]
            needed = [*used, *(keeper.needed(layout) if keeper else ())]
            keep = {layout.path(oid) for oid in _kept_oids(repo, layout, needed)}
            doomed = [path for path in stored if path not in keep]
            if keeper is not None and not dry:
                keeper.commit()
            if not dry and doomed:
                workers = jobs or remote.jobs or default_jobs()
                with ThreadPoolExecutor(max(1, min(workers, len(doomed)))) as pool:
                    list(pool.map(layout.backend.remove, doomed))
    finally:
        layout.backend.close()
    return GcResult(len(doomed), len(stored) - len(doomed), 0)


def _is_object(layout: Layout, relpath: str) -> bool:
    """`prefix/xx/rest`: where objects live (and what dvc's gc looks at)."""
    parts = relpath[len(layout.prefix) + 1 :].split("/")
    return relpath.startswith(layout.prefix + "/") and len(parts) == 2 and len(parts[0]) == 2


def _kept_oids(repo: Project, layout: Layout, used: Iterable[HashInfo]) -> set[str]:
    keep: set[str] = set()
    for info in used:
        keep.add(info.value)
        if info.isdir:
            keep.update(_entries(repo, layout, info.value))
    return keep


def _entries(repo: Project, layout: Layout, value: str) -> list[str]:
    try:
        return [oid for _, oid in repo.odb.read_manifest(value)]
    except CacheError:
        pass
    try:
        raw = layout.backend.get_bytes(layout.path(value))
        if layout.cipher is not None:
            raw = layout.cipher.open_bytes(raw, value)
        return [entry["md5"] for entry in json.loads(raw)]
    except FileNotFoundError:
        problem = "is in neither the cache nor the remote"
    except (CryptoError, ValueError, KeyError, TypeError) as exc:
        problem = f"cannot be read from the remote ({exc})"
    raise RemoteError(
        f"the manifest of used directory {value} {problem}, so its files cannot be told"
        " from garbage; nothing was removed from the remote"
    )
