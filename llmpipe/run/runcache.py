"""Run-cache: outputs of a stage run are found again by the exact inputs that made them.

Stored as DVC does, under `<cache>/runs/<key[:2]>/<key>/<value>`, where the key
hashes the command, dep hashes, params and output paths, and the file holds
the lock entry. A stage with `always_changed`, persistent or uncached outputs
is never cached this way.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..fsutil import atomic_write_text
from ..lockfile import LockEntry
from ..stage import Stage
from ..yamlio import load_yaml

_VOLATILE = ("size", "nfiles", "isexec")


def cacheable(stage: Stage) -> bool:
    return (
        not stage.always_changed
        and bool(stage.outs)
        and all(out.cache and not out.persist for out in stage.outs)
    )


def _strip(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in _VOLATILE} for item in items or ()]


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_key(entry: LockEntry) -> str:
    """Identify a run by its inputs only (outs by path)."""
    return _digest(
        {
            "cmd": entry.get("cmd"),
            "deps": _strip(entry.get("deps")),
            "params": entry.get("params") or {},
            "outs": [out["path"] for out in entry.get("outs") or ()],
        }
    )


def entry_relpath(entry: LockEntry) -> str:
    """Where `entry` lives under `runs/` (posix): `<key[:2]>/<key>/<digest of entry>`."""
    key = run_key(entry)
    return f"{key[:2]}/{key}/{_digest(entry)}"


def folder_relpath(inputs: LockEntry) -> str:
    """The folder under `runs/` holding every recorded run with these inputs."""
    key = run_key(inputs)
    return f"{key[:2]}/{key}"


def read_entry(text: str, where: str, inputs: LockEntry) -> LockEntry | None:
    """The entry in `text` when it parses and records a run of `inputs`; else None."""
    try:
        entry = load_yaml(text, where)
    except Exception:  # noqa: BLE001 - a damaged run-cache entry is just a miss
        return None
    ok = isinstance(entry, dict) and run_key(entry) == run_key(inputs)
    return entry if ok else None


def save(runs_dir: str, entry: LockEntry, stage_name: str) -> None:
    """Record `entry`, stage `stage_name`'s lock entry after a run, in the run-cache."""
    from ..yamlio import render_entry

    path = os.path.join(runs_dir, *entry_relpath(entry).split("/"))
    if not os.path.exists(path):
        # Not fsynced: an entry lost or damaged by a crash is only a cache miss,
        # and lookup() checks every entry it reads against its key.
        atomic_write_text(path, render_entry(stage_name, entry), durable=False)


def lookup(runs_dir: str, inputs: LockEntry) -> list[LockEntry]:
    """Recorded lock entries whose inputs equal `inputs` (an entry without `outs` hashes)."""
    key = run_key(inputs)
    folder = os.path.join(runs_dir, key[:2], key)
    try:
        names = sorted(
            os.listdir(folder),
            key=lambda n: os.path.getmtime(os.path.join(folder, n)),
            reverse=True,
        )
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        if name.startswith("."):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as handle:
                entry = read_entry(handle.read(), path, inputs)
        except (OSError, UnicodeDecodeError):
            continue
        if entry is not None:
            found.append(entry)
    return found
