"""`status -c`: per output, whether the cache and the remote agree.

An output is `new` when the cache has it all and the remote lacks some of it,
`deleted` when only the remote has it complete, `missing` when neither does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .objects import expand

if TYPE_CHECKING:
    from ..project import Project
    from .ops import TransferPlan

CloudState = Literal["new", "deleted", "missing", "ok"]


@dataclass(frozen=True)
class CloudStatus:
    path: str
    remote: str
    state: CloudState


def cloud_status(repo: Project, plan: TransferPlan, jobs: int | None = None) -> list[CloudStatus]:
    """The state of every planned output against its remote (`ok` ones included)."""
    from .ops import _present, default_jobs, open_layout

    found = []
    for name, outs in plan.groups.items():
        config = plan.remotes[name]
        jobs_here = jobs or config.jobs or default_jobs()
        layout = open_layout(repo, config, create=False)
        try:
            per_out = {out.path: expand(repo.odb, out.info) for out in outs}
            all_oids = {oid for oids in per_out.values() for oid in oids}
            there = _present(layout, sorted(all_oids), config, jobs_here)
            extra = _remote_manifests(repo, layout, outs, per_out, there)
        finally:
            layout.backend.close()
        for out in outs:
            oids = per_out[out.path] + extra.get(out.path, [])
            found.append(CloudStatus(out.path, name, _state(repo, oids, there)))
    return found


def _remote_manifests(repo, layout, outs, per_out, there):  # noqa: ANN001, ANN202
    """For directories whose `.dir` is only on the remote, read its entries from there."""
    import json

    extra: dict[str, list[str]] = {}
    for out in outs:
        if out.info.isdir and len(per_out[out.path]) == 1 and out.info.value in there:
            try:
                raw = layout.backend.get_bytes(layout.path(out.info.value))
                if layout.cipher is not None:
                    raw = layout.cipher.open_bytes(raw, out.info.value)
                entries = [e["md5"] for e in json.loads(raw)]
            except Exception:  # noqa: BLE001 - an unreadable manifest counts as incomplete
                entries = ["unreadable"]
            extra[out.path] = entries
            there |= layout.present(entries, 16) if entries != ["unreadable"] else set()
    return extra


def _state(repo: Project, oids: list[str], there: set[str]) -> CloudState:
    local = all(_in_cache(repo, oid) for oid in oids)
    remote = all(oid in there for oid in oids)
    if local and remote:
        return "ok"
    if local:
        return "new"
    return "deleted" if remote else "missing"


def _in_cache(repo: Project, oid: str) -> bool:
    from ..errors import CacheError

    try:
        return repo.odb.exists(oid)
    except CacheError:
        return False
