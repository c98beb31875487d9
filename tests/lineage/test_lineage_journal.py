"""The per-batch journal: cheap while running, Parquet for readers, nothing lost."""

from __future__ import annotations

import os

from llmpipe.lineage import journal as journal_mod
from llmpipe.lineage.journal import Journal, compact_if_due, read_journal
from llmpipe.lineage.store import LineageStore


def test_finished_journal_stays_pending_until_read(tmp_path, make_run):
    store = LineageStore(str(tmp_path / "lineage"))
    journal = Journal(store, "batch1")
    journal.write(make_run("prepare", 0))
    journal.write(make_run("train", 1))
    journal.finish()
    assert os.path.exists(journal.path)
    assert [r.stage for r in store.read()] == ["train", "prepare"]
    assert not os.path.exists(journal.path)
    assert len(store.files()) == 1


def test_journal_of_a_running_batch_is_left_alone(tmp_path, make_run):
    store = LineageStore(str(tmp_path / "lineage"))
    journal = Journal(store, "live")
    journal.write(make_run("prepare", 0))
    assert store.read() == []  # still being written: not converted
    journal.commit()
    assert [r.stage for r in store.read()] == ["prepare"]


def test_a_line_cut_short_by_a_crash_is_dropped(tmp_path, make_run):
    store = LineageStore(str(tmp_path / "lineage"))
    journal = Journal(store, "crashed")
    journal.write(make_run("prepare", 0))
    journal.finish()
    with open(journal.path, "a", encoding="utf-8") as handle:
        handle.write('{"run_id": "trunc')
    assert [r.stage for r in read_journal(journal.path)] == ["prepare"]


def test_compaction_waits_until_enough_has_gathered(tmp_path, make_run, monkeypatch):
    store = LineageStore(str(tmp_path / "lineage"))
    monkeypatch.setattr(journal_mod, "COMPACT_AT_FILES", 3)
    for number in range(3):
        journal = Journal(store, f"b{number}")
        journal.write(make_run("s", number))
        journal.finish()
        compact_if_due(store)
        pending = os.listdir(os.path.join(store.path, "pending"))
        assert len(pending) == (0 if number == 2 else number + 1)
    runs = os.path.join(store.path, "runs")
    assert sum(len(files) for _, _, files in os.walk(runs)) == 3
