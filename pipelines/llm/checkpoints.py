"""Checkpoint folders: `step-NNNNNN/` holding model.safetensors, trainer.pt and meta.json.

Checkpoints are written through `llmpipe.checkpoint` (the contract llmpipe streams
them to the remote by): into a hidden temp folder renamed into place, so a folder
named `step-*` is always complete; a crash leaves at most a `.step-*.tmp` folder,
which the next training removes. Files are only ever created, never rewritten in
place, because the cache may hard-link them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from llmpipe import checkpoint as contract

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
    contract.remove_incomplete(root)


def save_checkpoint(
    root: str,
    step: int,
    tensors: dict[str, Any],
    trainer_state: dict[str, Any],
    meta: dict[str, Any],
) -> str:
    """Write one checkpoint atomically (llmpipe's contract); return its folder."""
    import torch
    from safetensors.torch import save_file

    staging = contract.begin(root, folder_name(step))
    save_file(tensors, os.path.join(staging, WEIGHTS))
    torch.save(trainer_state, os.path.join(staging, TRAINER))
    write_json(os.path.join(staging, META), meta)
    metrics = {k: meta[k] for k in ("val_loss", "train_loss") if meta.get(k) is not None}
    return contract.commit(staging, step, metrics)


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
