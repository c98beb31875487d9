"""What crossed the network for each stage a cluster executor sent out, for benchmarks
and diagnosis: `LLMPIPE_CLUSTER_STATS=FILE` makes the driver write it (JSON) at the end.

Per stage: the bytes of its inputs (the project snapshot and its deps) and outputs,
what its worker fetched and pushed, and how many of the fetched objects that worker
had already fetched for an earlier stage (`refetched`: its cache should make it 0).
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

STATS_ENV = "LLMPIPE_CLUSTER_STATS"


@dataclass
class Traffic:
    pushed: int = 0  # objects the driver sent to the remote
    fetched: int = 0  # objects the driver brought back
    stages: list[dict[str, Any]] = field(default_factory=list)
    _seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def stage(self, address: str, node: str, fetched_oids: list[str], **sizes: int) -> None:
        """One task's figures; `fetched_oids`: what its worker fetched from the remote."""
        with self._lock:
            seen = self._seen[node]
            refetched = len(seen.intersection(fetched_oids))
            seen.update(fetched_oids)
            self.stages.append({"stage": address, "node": node, "refetched": refetched, **sizes})

    def write_if_asked(self) -> None:
        path = os.environ.get(STATS_ENV)
        if not path:
            return
        with self._lock:
            data = {"pushed": self.pushed, "fetched": self.fetched, "stages": self.stages}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
