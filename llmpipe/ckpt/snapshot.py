"""Hash a checkpoint directory's complete checkpoints into the cache, as one `.dir`.

Only complete checkpoint folders (`llmpipe.checkpoint`) are read; a hidden folder
being written is never looked at. Files go into the cache by hard link where the
filesystem allows (they are never rewritten, by the contract), else by copy;
hashes come through the state DB, so a folder already seen is only stat'ed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..cache.build import Manifest, build
from ..cache.odb import ObjectDB
from ..cache.state import StateDB
from ..checkpoint import CheckpointInfo, complete
from ..hashing import dir_hash
from ..stage import HashInfo


@dataclass(frozen=True)
class Snapshot:
    """The checkpoint directory as it stood: its `.dir` and the newest checkpoint in it."""

    info: HashInfo
    manifest: Manifest
    newest: CheckpointInfo
    names: tuple[str, ...]


def take_snapshot(directory: str, odb: ObjectDB, state: StateDB) -> Snapshot | None:
    """Store the complete checkpoints under `directory` in `odb`; None when there are none.

    A folder that vanishes meanwhile (the training code pruned it) is left out.
    """
    found = complete(directory)
    entries: list[tuple[str, str, int, bool]] = []
    names = []
    for checkpoint in found:
        folder = os.path.join(directory, checkpoint.name)
        try:
            entries.extend(_store_folder(folder, checkpoint.name, odb, state))
        except FileNotFoundError:
            continue
        names.append(checkpoint.name)
    if not names:
        return None
    manifest = Manifest(tuple(sorted(entries)))
    data = manifest.dir_bytes(odb.hash_name)
    value = dir_hash(data, odb.hash_name)
    odb.add_bytes(value, data)
    size = sum(entry[2] for entry in entries)
    info = HashInfo(odb.hash_name, value, size=size, nfiles=len(entries))
    newest = next(c for c in reversed(found) if c.name in names)
    return Snapshot(info, manifest, newest, tuple(names))


def _store_folder(
    folder: str, name: str, odb: ObjectDB, state: StateDB
) -> list[tuple[str, str, int, bool]]:
    _info, manifest = build(folder, odb.hash_name, state)
    assert manifest is not None  # a checkpoint is a folder
    stored = []
    for rel, value, size, executable in manifest.entries:
        path = os.path.join(folder, rel)
        odb.add_file(path, value, move=True)
        stored.append((f"{name}/{rel}", value, size, executable))
    return stored
