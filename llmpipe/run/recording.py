"""Turn stage outcomes into lineage records (one Parquet file per stage run)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from ..lineage.record import ArtifactRef, RunRecord
from ..lineage.store import LineageStore
from .stage_run import StageOutcome

_STATUS = {"ran": "ran", "restored": "restored", "failed": "failed"}
_MAX_METRICS_BYTES = 1 << 20


class LineageRecorder:
    """Appends a record for every executed, restored or failed stage of one batch."""

    def __init__(self, store: LineageStore, root: str, overrides: tuple[str, ...] = ()) -> None:
        from ..lineage.journal import Journal
        from ..lineage.record import new_id
        from ..scm import head_commit, is_dirty

        self.store, self.root, self.overrides = store, root, overrides
        self.batch_id = new_id()
        self.git_commit = head_commit(root)
        self.git_dirty = is_dirty(root) if self.git_commit else None
        self.journal = Journal(store, self.batch_id)

    def __call__(self, outcome: StageOutcome) -> None:
        for reason, job_id in outcome.lost_attempts:
            # A try whose worker was lost is a failed run of its own, with the engine's words.
            lost = replace(outcome, kind="failed", error=reason, job_id=job_id, node=None,
                           exit_status=None, out_hashes={}, lost_attempts=[])  # fmt: skip
            self.journal.write(self.record(lost))
        self.journal.write(self.record(outcome))

    def close(self) -> None:
        """End the batch; its records reach Parquet with the next read or compaction."""
        from ..lineage.journal import compact_if_due

        self.journal.finish()
        compact_if_due(self.store)

    def record(self, outcome: StageOutcome) -> RunRecord:
        stage = outcome.stage
        return RunRecord.new(
            stage=stage.name,
            dvcfile=stage.dvcfile,
            cmd=stage.cmd if isinstance(stage.cmd, str) else list(stage.commands),
            started_at=_utc(outcome.started),
            ended_at=_utc(outcome.ended or outcome.started),
            status=_STATUS[outcome.kind],  # type: ignore[arg-type]
            batch_id=self.batch_id,
            deps=[
                ArtifactRef.from_hash_info(stage.repo_path(p), h)
                for p, h in sorted(outcome.dep_hashes.items())
            ],
            params=outcome.params,
            outs=[
                ArtifactRef.from_hash_info(stage.repo_path(p), h)
                for p, h in sorted(outcome.out_hashes.items())
            ],
            metrics=self._metrics(outcome),
            git_commit=self.git_commit,
            git_dirty=self.git_dirty,
            exit_status=outcome.exit_status,
            from_run_cache=outcome.kind == "restored",
            overrides=self.overrides,
            error=outcome.error,
            executor=outcome.executor,
            job_id=outcome.job_id,
            host=outcome.node,
        )

    def _metrics(self, outcome: StageOutcome) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if outcome.kind == "failed":
            return found
        for out in outcome.stage.outs:
            if out.kind == "metric":
                value = _read_metrics(os.path.join(self.root, outcome.stage.repo_path(out.path)))
                if value is not None:
                    found[outcome.stage.repo_path(out.path)] = value
        return found


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _read_metrics(path: str) -> Any:
    """The parsed metrics file, or None: a missing, huge or malformed file is not recorded."""
    from ..metrics import FileProblem, read_data_file

    try:
        if os.path.getsize(path) > _MAX_METRICS_BYTES:
            return None
        return read_data_file(path)
    except (OSError, FileProblem):
        return None
