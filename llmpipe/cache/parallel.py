"""Run per-file work on a few threads, in batches, keeping input order.

File work here is bound by system calls and hashing, which release the GIL, so
threads give real parallelism; batching keeps the per-task overhead small when
there are thousands of tiny files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_ITEMS = 16
BATCH_SIZE = 64
LARGE_FILE = 1 << 20  # mean size from which per-file work is worth several threads


def default_jobs() -> int:
    return min(8, 4 * (os.cpu_count() or 1))


def mostly_large(items: Sequence[T], path: Callable[[T], str]) -> bool:
    """True when the files of a sample of up to 8 `items` average LARGE_FILE bytes or more.

    Small files cost Python work and system calls, which threads only contend on
    (10,000 small files check out twice as fast on one thread on tmpfs, no slower on
    ext4); hashing and copying large files run outside the GIL and overlap well.
    """
    sizes = []
    for item in items[:: max(1, len(items) // 8)][:8]:
        with contextlib.suppress(OSError):
            sizes.append(os.stat(path(item)).st_size)
    return bool(sizes) and sum(sizes) >= LARGE_FILE * len(sizes)


def map_in_threads(
    func: Callable[[T], R],
    items: Sequence[T],
    jobs: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """`[func(item) for item in items]`, on `jobs` threads when there are many items.

    `on_done(n)` is called from the calling thread after every n finished items,
    so progress objects need no locking. The first exception raised is re-raised.
    """
    if len(items) < PARALLEL_MIN_ITEMS or jobs == 1:
        return [_one(func, item, on_done) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    batches = [items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]
    results: list[R] = []
    with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
        for done in pool.map(lambda batch: [func(item) for item in batch], batches):
            results.extend(done)
            if on_done is not None:
                on_done(len(done))
    return results


def _one(func: Callable[[T], R], item: T, on_done: Callable[[int], None] | None) -> R:
    result = func(item)
    if on_done is not None:
        on_done(1)
    return result
