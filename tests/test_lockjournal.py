"""A large dvc.lock is rewritten in amortized steps, with a journal in between (issue 20,
goal 5): linear bytes for a first `repro`, and nothing finished is lost to a kill."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from llmpipe import lockjournal
from llmpipe.lockfile import LockWriter, read_lock
from llmpipe.yamlio import LOCK_HEADER, render_lock, stage_block

MD5 = "0123456789abcdef0123456789abcdef"


def entry(i: int, version: int = 0) -> dict:
    return {
        "cmd": f"python make.py {i} --version {version}",
        "deps": [{"path": f"in/{i}.txt", "hash": "md5", "md5": MD5, "size": i}],
        "outs": [{"path": f"out/{i}.txt", "hash": "md5", "md5": MD5, "size": version}],
    }


def write_stages(root: Path, count: int, version: int = 0) -> tuple[LockWriter, int]:
    """Update `count` entries; return the writer (not closed) and how often the lock
    file itself was replaced."""
    writer = LockWriter(str(root))
    replaced, last = 0, None
    for i in range(count):
        writer.update("dvc.lock", f"s{i}", entry(i, version))
        inode = os.stat(root / "dvc.lock").st_ino
        replaced += inode != last
        last = inode
    return writer, replaced


def expected(count: int, version: int = 0) -> str:
    return render_lock({f"s{i}": entry(i, version) for i in range(count)})


def test_a_large_lock_is_rewritten_a_logarithmic_number_of_times(tmp_path: Path) -> None:
    writer, replaced = write_stages(tmp_path, 3000)  # ~650 KB of lock text
    assert len(expected(3000)) > 8 * lockjournal.SMALL
    sizes = itertools.accumulate(len(stage_block(f"s{i}", entry(i))[0]) for i in range(3000))
    small = sum(1 for size in sizes if len(LOCK_HEADER) + size <= lockjournal.SMALL)
    assert small < 400
    assert replaced <= small + 12
    writer.close()
    assert (tmp_path / "dvc.lock").read_text() == expected(3000)
    assert not os.path.exists(lockjournal.journal_path(str(tmp_path), "dvc.lock"))


def test_changed_entries_of_a_large_lock_are_journaled_too(tmp_path: Path) -> None:
    write_stages(tmp_path, 1000)[0].close()
    writer, replaced = write_stages(tmp_path, 1000, version=1)
    assert replaced <= 8
    writer.close()
    assert (tmp_path / "dvc.lock").read_text() == expected(1000, version=1)


def test_a_killed_writer_loses_nothing_readers_see(tmp_path: Path) -> None:
    write_stages(tmp_path, 1000)  # never closed: as if killed
    assert (tmp_path / "dvc.lock").read_text() != expected(1000)
    assert read_lock(str(tmp_path), "dvc.lock") == {f"s{i}": entry(i) for i in range(1000)}
    # The next writer starts from everything, and leaves the file complete.
    writer = LockWriter(str(tmp_path))
    assert writer.entry("dvc.lock", "s999") == entry(999)
    writer.close()
    assert (tmp_path / "dvc.lock").read_text() == expected(1000)
    assert not os.path.exists(lockjournal.journal_path(str(tmp_path), "dvc.lock"))


def test_a_torn_last_record_is_left_out(tmp_path: Path) -> None:
    write_stages(tmp_path, 1000)
    journal = Path(lockjournal.journal_path(str(tmp_path), "dvc.lock"))
    journal.write_bytes(journal.read_bytes()[:-5])
    stages = read_lock(str(tmp_path), "dvc.lock")
    assert "s998" in stages and "s999" not in stages


def test_a_journal_is_ignored_once_the_lock_was_written_by_another(tmp_path: Path) -> None:
    """After `git checkout`, an edit or a dvc run, the journal no longer continues the
    lock: even the same text, written again, is another file."""
    write_stages(tmp_path, 1000)
    lock = tmp_path / "dvc.lock"
    text = lock.read_text()
    os.unlink(lock)
    lock.write_text(text)
    stages = read_lock(str(tmp_path), "dvc.lock")
    assert "s0" in stages and "s999" not in stages
