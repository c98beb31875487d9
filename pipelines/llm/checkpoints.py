"""Checkpoint folders: `step-NNNNNN/` holding model.safetensors, trainer.pt and meta.json.

A checkpoint is written into a hidden temp folder and renamed into place, so a
folder named `step-*` is always complete; a crash leaves at most a `.step-*.tmp`
folder, which the next training removes. Files are only ever created, never
rewritten in place, because the cache may hard-link them.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from typing import Any

from .common import PipelineError, read_json, write_json

_NAME = re.compile(r"^step-(\d{6,})$")
WEIGHTS = "model.safetensors"
TRAINER = "trainer.pt"
META = "meta.json"


@dataclass(frozen=True)
class Checkpoint:
    path: str
    step: int
    meta: dict[str, Any]


def folder_name(step: int) -> str:
    return f"step-{step:06d}"


def list_checkpoints(root: str) -> list[Checkpoint]:
    """Complete checkpoints under `root`, oldest step first (none when `root` is missing)."""
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _NAME.match(name)
        path = os.path.join(root, name)
        if match and os.path.exists(os.path.join(path, META)):
            found.append(
                Checkpoint(
                    path,
                    int(match.group(1)),
                    read_json(os.path.join(path, META), "checkpoint metadata"),
                )
            )
    return sorted(found, key=lambda c: c.step)


def remove_incomplete(root: str) -> None:
    """Delete temp folders and files left by a checkpoint write that was interrupted."""
    if os.path.isdir(root):
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def save_checkpoint(
    root: str,
    step: int,
    tensors: dict[str, Any],
    trainer_state: dict[str, Any],
    meta: dict[str, Any],
) -> str:
    """Write one checkpoint atomically; return its folder."""
    import torch
    from safetensors.torch import save_file

    final = os.path.join(root, folder_name(step))
    staging = os.path.join(root, f".{folder_name(step)}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    save_file(tensors, os.path.join(staging, WEIGHTS))
    torch.save(trainer_state, os.path.join(staging, TRAINER))
    for name in (WEIGHTS, TRAINER):
        _fsync(os.path.join(staging, name))
    write_json(os.path.join(staging, META), meta)  # last: its presence marks completeness
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    _fsync_dir(root)
    return final


def load_weights(checkpoint: Checkpoint) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(os.path.join(checkpoint.path, WEIGHTS))


def load_trainer_state(checkpoint: Checkpoint) -> dict[str, Any]:
    import torch

    path = os.path.join(checkpoint.path, TRAINER)
    try:
        return torch.load(path, weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise PipelineError(f"checkpoint '{checkpoint.path}' is unreadable: {exc}") from None


def _fsync(path: str) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
