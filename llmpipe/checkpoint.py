"""The checkpoint contract, and the helper training code writes checkpoints with.

A stage's checkpoint directory (`meta: {llmpipe: {checkpoints: DIR}}` in dvc.yaml)
holds one sub-folder per checkpoint. A folder is *complete* once it appears under a
name that does not start with `.`: it is written under a hidden name
(`.NAME.tmp`) and renamed into place in one step, after its files are on disk.
Its files are never rewritten afterwards (they may be hard-linked into the cache).
Anything hidden is work in progress: llmpipe never hashes, pushes or resumes from it.

`llmpipe-checkpoint.json` in a folder carries its step and metrics; without it,
the step is the number the folder's name ends with.

    from llmpipe import checkpoint

    with checkpoint.save("models/checkpoints", step=200, metrics={"val_loss": 1.9}) as folder:
        write_files_into(folder)        # published when the block ends without error

This module imports nothing heavy: training code loads it at start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .fsutil import _fsync_file

INFO = "llmpipe-checkpoint.json"
_TRAILING_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class CheckpointInfo:
    """What a complete checkpoint folder says of itself."""

    name: str
    step: int | None
    metrics: dict[str, Any] = field(default_factory=dict)


def folder_name(step: int) -> str:
    """The folder name `save` gives step `step`: `step-000200`."""
    return f"step-{step:06d}"


def staging_path(root: str, name: str) -> str:
    return os.path.join(root, f".{name}.tmp")


def begin(root: str, name: str) -> str:
    """A fresh, empty hidden folder to write checkpoint `name` into."""
    staging = staging_path(root, name)
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    return staging


def commit(staging: str, step: int | None = None, metrics: dict[str, Any] | None = None) -> str:
    """Publish the folder `staging` (from `begin`) as a complete checkpoint; its path.

    Every file is flushed to disk, the info file written, then the folder renamed
    into place (replacing an older one of the same name) and the rename flushed.
    """
    root, hidden = os.path.split(staging.rstrip(os.sep))
    if not (hidden.startswith(".") and hidden.endswith(".tmp")):
        raise ValueError(f"'{staging}' is not a checkpoint staging folder (see begin())")
    info = {"step": step, "metrics": dict(metrics or {})}
    with open(os.path.join(staging, INFO), "w", encoding="utf-8") as handle:
        json.dump(info, handle, sort_keys=True)
    for folder, _dirs, files in os.walk(staging):
        for name in files:
            _fsync_file(os.path.join(folder, name))
    final = os.path.join(root, hidden[1 : -len(".tmp")])
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    _fsync_file(root or ".")
    return final


@contextlib.contextmanager
def save(
    root: str,
    step: int,
    metrics: dict[str, Any] | None = None,
    name: str | None = None,
) -> Iterator[str]:
    """Write a checkpoint: yields a hidden folder, published by `commit` on success.

    On an exception the half-written folder is removed and nothing is published.
    """
    staging = begin(root, name or folder_name(step))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    commit(staging, step, metrics)


def is_complete_name(name: str) -> bool:
    return not name.startswith(".") and not name.endswith(".tmp")


def complete(root: str) -> list[CheckpointInfo]:
    """The complete checkpoints under `root`, by step (then name); none when it is missing."""
    try:
        names = [e.name for e in os.scandir(root) if e.is_dir() and is_complete_name(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [read_info(os.path.join(root, name)) for name in names]
    return sorted(found, key=lambda c: (c.step if c.step is not None else -1, c.name))


def read_info(folder: str) -> CheckpointInfo:
    """The step and metrics of a complete checkpoint folder (see the module doc)."""
    name = os.path.basename(folder)
    try:
        with open(os.path.join(folder, INFO), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = {}
    step = data.get("step") if isinstance(data, dict) else None
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(step, int):
        match = _TRAILING_NUMBER.search(name)
        step = int(match.group(1)) if match else None
    return CheckpointInfo(name, step, metrics if isinstance(metrics, dict) else {})


def remove_incomplete(root: str) -> None:
    """Delete hidden folders and files left by a checkpoint write that was interrupted."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(root):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
