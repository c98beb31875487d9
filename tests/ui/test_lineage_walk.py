"""Walking lineage both ways from one artifact (the lineage page's walk), on records
made in memory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from llmpipe.lineage.record import ArtifactRef, RunRecord
from llmpipe.ui.lineage import walk

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def run(stage: str, minute: int, deps=(), outs=(), status: str = "ran") -> RunRecord:  # noqa: ANN001
    return RunRecord.new(
        stage=stage, cmd=stage, started_at=T0 + timedelta(minutes=minute),
        ended_at=T0 + timedelta(minutes=minute, seconds=30), status=status,
        deps=[ArtifactRef(p, h) for p, h in deps], outs=[ArtifactRef(p, h) for p, h in outs],
    )  # fmt: skip


def newest_first(*records: RunRecord) -> list[RunRecord]:
    return sorted(records, key=lambda r: r.started_at, reverse=True)


PREPARE = run("prepare", 0, [("raw.csv", "r1"), ("prepare.py", "c1")], [("data", "d1.dir")])
TRAIN = run("train", 1, [("data", "d1.dir")], [("model", "m1.dir")])
EVALUATE = run(
    "evaluate", 2, [("model", "m1.dir"), ("data/test.csv", None)], [("scores.json", "s1")]
)


def test_upstream_to_the_raw_inputs_and_downstream_to_everything_derived() -> None:
    found = walk(newest_first(PREPARE, TRAIN, EVALUATE), "model", "m1.dir")
    assert [r.stage for r in found.upstream] == ["prepare", "train"]
    assert [ref.path for ref in found.raw_inputs] == ["prepare.py", "raw.csv"]
    assert [r.stage for r in found.downstream] == ["evaluate"]
    from_data = walk(newest_first(PREPARE, TRAIN, EVALUATE), "data", "d1.dir")
    # train read the folder; evaluate read a file inside it (after it was written) and the model.
    assert [r.stage for r in from_data.downstream] == ["train", "evaluate"]


def test_another_version_of_the_path_is_not_derived_from_this_one() -> None:
    retrain = run("prepare", 10, [("raw.csv", "r2")], [("data", "d2.dir")])
    other = run("train", 11, [("data", "d2.dir")], [("model", "m2.dir")])
    records = newest_first(PREPARE, TRAIN, retrain, other)
    found = walk(records, "data", "d1.dir")
    assert [r.run_id for r in found.downstream] == [TRAIN.run_id]
    assert [r.run_id for r in walk(records, "data", "d2.dir").downstream] == [other.run_id]


def test_failed_runs_derive_nothing_and_the_walk_is_bounded() -> None:
    failed = run("train", 3, [("data", "d1.dir")], [], status="failed")
    readers = [
        run(f"eval{i}", 5 + i, [("data", "d1.dir")], [(f"out{i}", f"o{i}")]) for i in range(8)
    ]
    found = walk(newest_first(PREPARE, failed, *readers), "data", "d1.dir", limit=5)
    assert failed.run_id not in {r.run_id for r in found.downstream}
    assert len(found.downstream) == 5 and found.truncated
