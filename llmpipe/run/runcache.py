"""Run-cache: outputs of a stage run are found again by the exact inputs that made them.

Stored as dvc stores it, so that entries pushed by one tool serve the other:
`<cache>/runs/<key[:2]>/<key>/<value>`, where `key` is the sha256 of the run's
lock entry with its outputs reduced to their paths, and `value` the sha256 of
the whole entry (both as JSON with sorted keys, `size` and `nfiles` left out at
every depth, as dvc's `dict_sha256` does); the file holds the lock entry.

As in dvc, a stage is run-cached when it has a command, dependencies (files or
params, none of them a URL) and outputs (all inside the repository, none
persistent), and is not `always_changed`.
Outputs with `cache: false` are run-cached too: their content goes into the
cache when the stage runs, and a restore copies it back.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..fsutil import atomic_write_text
from ..lockfile import LockEntry
from ..stage import Stage, is_url
from ..yamlio import load_yaml

# Left out of both hashes, at any depth (dvc: `exclude=[Meta.PARAM_SIZE, Meta.PARAM_NFILES]`).
_EXCLUDED = frozenset({"size", "nfiles"})


def cacheable(stage: Stage) -> bool:
    return (
        not stage.always_changed
        and bool(stage.commands)
        and bool(stage.deps or stage.params)
        and bool(stage.outs)
        and not any(out.persist or not stage.in_repo(out.path) for out in stage.outs)
        and not any(is_url(dep.path) for dep in stage.deps)
    )


def _without_sizes(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_sizes(v) for k, v in data.items() if k not in _EXCLUDED}
    if isinstance(data, (list, tuple)):
        return [_without_sizes(item) for item in data]
    return data


def _digest(data: Any) -> str:
    # json.dumps' default separators and ASCII escapes, as dvc hashes it.
    text = json.dumps(_without_sizes(data), sort_keys=True)
    import hashlib  # OpenSSL: loaded where a stage runs, not on the no-op path

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_key(entry: LockEntry) -> str:
    """Identify a run by its inputs only: the lock entry with outputs as their paths."""
    return _digest({**entry, "outs": [out["path"] for out in entry.get("outs") or ()]})


def entry_value(entry: LockEntry) -> str:
    """The name of a run-cache file: the digest of the whole lock entry."""
    return _digest(entry)


def entry_relpath(entry: LockEntry) -> str:
    """Where `entry` lives under `runs/` (posix): `<key[:2]>/<key>/<digest of entry>`."""
    key = run_key(entry)
    return f"{key[:2]}/{key}/{entry_value(entry)}"


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
