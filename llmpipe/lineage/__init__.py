"""Lineage: an append-only record of every stage run, and queries over it.

Importing this package is cheap; pyarrow is loaded only when the store is read
or written.
"""

from .query import Trace, chain, producer_of, trace
from .record import ArtifactRef, RunRecord, RunStatus, new_id, utcnow
from .store import LineageStore

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
