"""Lineage: an append-only record of every stage run, and queries over it.

Importing this package is cheap; pyarrow is loaded only when the store is read
or written.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .record import ArtifactRef, RunRecord, RunStatus, new_id, utcnow
from .store import LineageStore

if TYPE_CHECKING:
    from .query import Trace, chain, producer_of, trace

# Recording a run (every stage that runs) needs no queries: they load when used.
_QUERIES = ("Trace", "chain", "producer_of", "trace")


def __getattr__(name: str) -> Any:
    if name in _QUERIES:
        return getattr(importlib.import_module(f"{__name__}.query"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ArtifactRef",
    "LineageStore",
    "RunRecord",
    "RunStatus",
    "Trace",
    "chain",
    "new_id",
    "producer_of",
    "trace",
    "utcnow",
]
