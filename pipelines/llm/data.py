"""Token streams of the prepared splits, and the batches drawn from them.

The batch of step k depends only on (seed, k), never on how many batches were
drawn before, so a resumed training sees exactly the batches an uninterrupted
one would.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .common import PipelineError, read_json

SEED_STRIDE = 1_000_003  # a prime: (seed, step) pairs map to distinct generator seeds


def read_card(prepared: str) -> dict[str, Any]:
    return read_json(os.path.join(prepared, "dataset_card.json"), "dataset card")


def load_split(prepared: str, split: str) -> np.ndarray:
    """All tokens of one split, documents concatenated in shard order (uint16)."""
    import pyarrow.parquet as pq

    card = read_card(prepared)
    arrays = []
    for shard in card["splits"][split]["shards"]:
        path = os.path.join(prepared, split, shard)
        if not os.path.exists(path):
            raise PipelineError(f"shard '{path}' is missing; re-run the prepare stage")
        column = pq.read_table(path, columns=["tokens"]).column("tokens").combine_chunks()
        arrays.append(column.flatten().to_numpy(zero_copy_only=False))
    return np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)


def check_fits(tokens: np.ndarray, block_size: int, split: str) -> None:
    """PipelineError when a split is too short for one window of block_size + 1 tokens."""
    if len(tokens) < block_size + 1:
        raise PipelineError(
            f"params 'model.block_size' ({block_size}) is larger than the {split} split "
            f"({len(tokens)} tokens); lower it or prepare more data"
        )


def batch_for_step(
    tokens: np.ndarray, seed: int, step: int, batch_size: int, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-token targets (batch_size, block_size) of training step `step`."""
    rng = np.random.default_rng(seed * SEED_STRIDE + step)
    starts = rng.integers(0, len(tokens) - block_size, size=batch_size)
    return windows(tokens, starts, block_size)


def windows(
    tokens: np.ndarray, starts: np.ndarray, block_size: int
) -> tuple[np.ndarray, np.ndarray]:
    index = starts[:, None] + np.arange(block_size + 1)[None, :]
    chunk = tokens[index]
    return chunk[:, :-1], chunk[:, 1:]


def fixed_starts(n_tokens: int, count: int, block_size: int) -> np.ndarray:
    """`count` evenly spread window starts: the same evaluation batches on every call."""
    last = n_tokens - block_size - 1
    return np.linspace(0, max(last, 0), num=count).astype(np.int64)
