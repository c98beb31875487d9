"""The SQLite state DB: (inode, mtime, size) -> hash, shared by threads and processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from llmpipe.cache.state import NoState, SqliteState

ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def state(tmp_path):
    db = SqliteState(str(tmp_path / "state.db"))
    yield db
    db.close()


def _file(tmp_path, name="f", data=b"data"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_remembers_a_hash_for_an_unchanged_file(state, tmp_path):
    path = _file(tmp_path)
    state.set(path, os.stat(path), "abc")
    assert state.get(path, os.stat(path)) == "abc"


def test_a_changed_mtime_or_size_invalidates_the_entry(state, tmp_path):
    path = _file(tmp_path)
    st = os.stat(path)
    state.set(path, st, "abc")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert state.get(path, os.stat(path)) is None
    state.set(path, os.stat(path), "abc")
    with open(path, "ab") as handle:
        handle.write(b"more")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert state.get(path, os.stat(path)) is None


def test_entries_are_per_hash_algorithm(state, tmp_path):
    path = _file(tmp_path)
    state.set(path, os.stat(path), "md5value")
    assert state.get(path, os.stat(path), "blake3") is None
    state.set(path, os.stat(path), "b3value", "blake3")
    assert state.get(path, os.stat(path)) == "md5value"
    assert state.get(path, os.stat(path), "blake3") == "b3value"


def _fake_stat(inode: int, mtime_ns: int = 1, size: int = 1) -> SimpleNamespace:
    # The state reads only these three fields of a stat result.
    return SimpleNamespace(st_ino=inode, st_mtime_ns=mtime_ns, st_size=size)


def test_get_many_answers_in_order_across_query_batches(state):
    stats = [_fake_stat(1000 + i) for i in range(2100)]
    state.set_many([(f"f{i}", st, f"h{i}") for i, st in enumerate(stats) if i % 3])
    results = state.get_many([(f"f{i}", st) for i, st in enumerate(stats)])
    assert results == [None if i % 3 == 0 else f"h{i}" for i in range(len(stats))]


def test_rows_survive_close_and_reopen(tmp_path):
    path = _file(tmp_path)
    db = SqliteState(str(tmp_path / "state.db"))
    for i in range(5):  # buffered by `set`, written by close
        db.set(path, os.stat(path), f"v{i}")
    db.close()
    db = SqliteState(str(tmp_path / "state.db"))
    assert db.get(path, os.stat(path)) == "v4"
    db.close()


def test_a_closed_state_refuses_lookups(tmp_path):
    db = SqliteState(str(tmp_path / "state.db"))
    db.close()
    db.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        db.get_many([])


def test_huge_inode_numbers_fit(state, tmp_path):
    path = _file(tmp_path)
    real = os.stat(path)
    fake = _fake_stat(2**64 - 5, real.st_mtime_ns, real.st_size)
    state.set(path, fake, "big")
    state.flush()
    assert state.get(path, fake) == "big"
    assert state.get(path, real) is None


def test_threads_share_one_state(state, tmp_path):
    paths = [_file(tmp_path, f"f{i}", str(i).encode()) for i in range(200)]
    errors = []

    def work(offset: int) -> None:
        try:
            for i in range(offset, len(paths), 4):
                state.set(paths[i], os.stat(paths[i]), f"h{i}")
                assert state.get(paths[i], os.stat(paths[i])) == f"h{i}"
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert state.get_many([(p, os.stat(p)) for p in paths]) == [f"h{i}" for i in range(200)]


_WRITER = """
import os, sys
sys.path.insert(0, sys.argv[1])
from llmpipe.cache.state import SqliteState
db = SqliteState(sys.argv[2])
tag = sys.argv[3]
for path in sys.argv[4:]:
    db.set_many([(path, os.stat(path), tag + os.path.basename(path))])
db.close()
"""


def test_several_processes_write_one_state(tmp_path):
    db_path = str(tmp_path / "state.db")
    groups = [[_file(tmp_path, f"{g}-{i}") for i in range(30)] for g in "ab"]
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, ROOT, db_path, tag, *paths])
        for tag, paths in zip("ab", groups, strict=True)
    ]
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0]
    db = SqliteState(db_path)
    for tag, paths in zip("ab", groups, strict=True):
        got = db.get_many([(p, os.stat(p)) for p in paths])
        assert got == [tag + os.path.basename(p) for p in paths]
    db.close()


def test_no_state_remembers_nothing(tmp_path):
    path = _file(tmp_path)
    state = NoState()
    state.set(path, os.stat(path), "x")
    state.set_many([(path, os.stat(path), "x")])
    assert state.get(path, os.stat(path)) is None
    assert state.get_many([(path, os.stat(path))]) == [None]
    state.close()


def test_the_link_records_are_not_synced_per_commit(tmp_path) -> None:
    """The link records share the state DB's file and its durability (WAL, NORMAL):
    a stage that runs does not wait for an fsync to record its outputs (issue 20)."""
    from llmpipe.cache.linkdb import LinkDB
    from llmpipe.cache.state import SqliteState

    state = SqliteState(str(tmp_path / "state.db"))
    (tmp_path / "out.txt").write_text("x\n")
    links = LinkDB(str(tmp_path / "state.db"), str(tmp_path))
    links.record(["out.txt"])
    assert links._conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert links._conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert links.unused(set()) == ["out.txt"]
    links.close()
    state.close()
