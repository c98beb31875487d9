"""The run-cache on the remote (`runs/`, dvc's layout): how a finished stage survives
its driver. A worker leaves the lock entry of each run there after pushing the
outputs; a driver looks for one before sending a stage out again."""

from __future__ import annotations

from typing import Any

from ..errors import LlmpipeError
from ..lockfile import LockEntry, entry_for, hashes_in
from ..remote.layout import Layout
from ..run import runcache
from ..stage import HashInfo, Stage
from ..yamlio import render_entry

RUNS = "runs"


def publish_run(
    layout: Layout,
    stage: Stage,
    dep_hashes: dict[str, HashInfo],
    params: dict[str, Any],
    out_hashes: dict[str, HashInfo],
) -> None:
    """Leave the run's lock entry on a plain remote (encrypted remotes keep no run-cache)."""
    if layout.cipher is not None or not runcache.cacheable(stage):
        return
    entry = entry_for(stage, dep_hashes, params, out_hashes)
    relpath = f"{RUNS}/{runcache.entry_relpath(entry)}"
    layout.backend.put_bytes(relpath, render_entry(stage.name, entry).encode("utf-8"))


def find_run(
    layout: Layout, stage: Stage, dep_hashes: dict[str, HashInfo], params: dict[str, Any]
) -> dict[str, HashInfo] | None:
    """The outputs of a recorded run of these inputs whose objects are all on the remote."""
    if layout.cipher is not None:
        return None
    inputs = entry_for(stage, dep_hashes, params, {})
    inputs["outs"] = [{"path": out.path} for out in stage.outs]
    folder = f"{RUNS}/{runcache.folder_relpath(inputs)}"
    for relpath in sorted(layout.backend.list_files(folder)):
        entry = _entry(layout, relpath, inputs)
        outs = hashes_in(entry or {}, "outs")
        if entry is None or set(outs) != {out.path for out in stage.outs}:
            continue
        if _all_present(layout, outs):
            return outs
    return None


def _entry(layout: Layout, relpath: str, inputs: LockEntry) -> LockEntry | None:
    try:
        text = layout.backend.get_bytes(relpath).decode("utf-8")
    except (OSError, UnicodeDecodeError, LlmpipeError):
        return None
    return runcache.read_entry(text, relpath, inputs)


def _all_present(layout: Layout, outs: dict[str, HashInfo]) -> bool:
    """Every output object there (a `.dir` promises its entries: they are pushed first)."""
    wanted = [info.value for info in outs.values()]
    return len(layout.present(wanted, 4)) == len(set(wanted))
