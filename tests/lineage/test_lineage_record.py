from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from llmpipe.lineage.record import ArtifactRef, RunRecord, display_command
from llmpipe.stage import HashInfo

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _new(**fields) -> RunRecord:
    fields.setdefault("stage", "train")
    fields.setdefault("cmd", "python train.py")
    fields.setdefault("status", "ran")
    fields.setdefault("started_at", START)
    fields.setdefault("ended_at", START + timedelta(seconds=2.5))
    return RunRecord.new(**fields)


def test_new_fills_ids_environment_and_duration():
    first, second = _new(), _new()
    assert len(first.run_id) == 32 and first.run_id != second.run_id
    assert first.batch_id != second.batch_id  # no batch given: a batch of its own
    assert first.duration_s == 2.5
    assert first.host and first.user and first.llmpipe_version
    assert first.python_version.count(".") == 2


def test_shared_batch_id_is_kept():
    assert _new(batch_id="b1").batch_id == _new(batch_id="b1").batch_id == "b1"


def test_list_command_is_joined_for_display_and_kept_as_json():
    record = _new(cmd=["python a.py", "python b.py"])
    assert record.cmd == "python a.py && python b.py"
    assert record.command == ["python a.py", "python b.py"]
    assert _new().command == "python train.py"
    assert display_command("echo hi") == "echo hi"


def test_times_are_normalized_to_utc_and_naive_times_refused():
    plus_two = timezone(timedelta(hours=2))
    record = _new(started_at=START.astimezone(plus_two))
    assert record.started_at.utcoffset() == timedelta(0) and record.started_at == START
    with pytest.raises(ValueError, match="timezone-aware"):
        _new(started_at=datetime(2026, 1, 1))


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        _new(status="skipped")


def test_to_dict_is_json_ready():
    record = _new(
        deps=[ArtifactRef("data/raw.csv", "a" * 32, 10)],
        params={"params.yaml": {"train.lr": 0.1}},
        overrides=["train.lr=0.1"],
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["started_at"] == "2026-01-02T03:04:05+00:00"
    assert data["deps"] == [{"path": "data/raw.csv", "hash": "a" * 32, "size": 10, "nfiles": None}]
    assert data["overrides"] == ["train.lr=0.1"]


def test_artifact_from_hash_info_and_short_hash():
    ref = ArtifactRef.from_hash_info("data", HashInfo("md5", "0123456789abcdef.dir", 30, 3))
    assert (ref.hash, ref.size, ref.nfiles, ref.isdir) == ("0123456789abcdef.dir", 30, 3, True)
    assert ref.short_hash == "01234567.dir"
    assert ArtifactRef.from_hash_info("x", None).short_hash == "-"
    assert ArtifactRef("f", "fedcba9876543210").short_hash == "fedcba98"
