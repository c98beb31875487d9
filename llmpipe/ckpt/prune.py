"""`gc -c` and checkpoints: which records a remote keeps, and the objects they need.

A record stays on the remote when any of these holds:

- its run is `running`: its command may be streaming right now, and it applies its
  own retention as it goes (its announced `pending` snapshot is kept too);
- the stage's retention keeps it (`spec.kept`: the last N and every K-th of its run,
  always the run's newest); a stage that declares no retention, or that this
  workspace does not name, keeps every record;
- its directory snapshot is what a kept lock or `.dvc` file records (`used`), on
  this commit or another one `gc` was told to keep.

The other records are removed (before any object, so a record never names a
removed object), and `remote.gc` then removes the objects no kept record, output or
pending snapshot names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..stage import HashInfo
from .records import CheckpointRecord, RecordStore, RunState
from .spec import CheckpointSpec, kept

if TYPE_CHECKING:
    from ..remote.layout import Layout


@dataclass
class CheckpointSweep:
    """The checkpoint side of one `gc -c` (see the module doc); `needed()` plans,
    `commit()` removes the records planned away."""

    specs: dict[str, CheckpointSpec]  # stage address -> its checkpoint setting
    used: set[str]  # hashes that kept outputs record
    hash_name: str
    removed: list[CheckpointRecord] = field(default_factory=list)
    _doomed: list[tuple[RecordStore, CheckpointRecord]] = field(default_factory=list)

    def needed(self, layout: Layout) -> list[HashInfo]:
        """The trees of the records that stay and the objects running streams announced."""
        keep: list[HashInfo] = []
        for store in RecordStore.every_stage(layout):
            runs, records = store.load()
            running = {r.run_id for r in runs if r.state == "running"}
            for record in records:
                if self._stays(record, runs, records, running):
                    keep.append(HashInfo(self.hash_name, record.tree))
                else:
                    self._doomed.append((store, record))
            keep.extend(HashInfo(self.hash_name, oid) for oid in store.load_pending(running))
        self.removed = [record for _, record in self._doomed]
        return keep

    def _stays(
        self,
        record: CheckpointRecord,
        runs: list[RunState],
        records: list[CheckpointRecord],
        running: set[str],
    ) -> bool:
        spec = self.specs.get(record.stage)
        known = any(r.run_id == record.run_id for r in runs)
        if spec is None or not known or record.run_id in running or record.tree in self.used:
            return True
        sequences = [r.seq for r in records if r.run_id == record.run_id]
        return record.seq in kept(sequences, spec)

    def commit(self) -> None:
        for store, record in self._doomed:
            store.remove_checkpoint(record)
