"""Builders of synthetic run records for the lineage tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from llmpipe.lineage.record import ArtifactRef, RunRecord

T0 = datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=timezone.utc)

MakeRun = Callable[..., RunRecord]


@pytest.fixture
def make_run() -> MakeRun:
    """A factory: make_run(stage, minute, deps=..., outs=..., **fields) -> RunRecord.

    `deps`/`outs` are lists of (path, hash) or ArtifactRef; the run starts `minute`
    minutes after T0 and lasts 30 seconds.
    """

    def build(stage: str, minute: float, deps=(), outs=(), **fields: Any) -> RunRecord:
        started = T0 + timedelta(minutes=minute)
        fields.setdefault("status", "ran")
        fields.setdefault("cmd", f"python {stage}.py")
        fields.setdefault("exit_status", 0 if fields["status"] == "ran" else None)
        return RunRecord.new(
            stage=stage,
            started_at=started,
            ended_at=started + timedelta(seconds=30),
            deps=[_ref(item) for item in deps],
            outs=[_ref(item) for item in outs],
            **fields,
        )

    return build


def _ref(item: ArtifactRef | tuple[str, str]) -> ArtifactRef:
    if isinstance(item, ArtifactRef):
        return item
    path, hash_value = item
    return ArtifactRef(path, hash_value, size=10)
