"""The watcher thread beside a running stage: what it pushes, and that it yields the CPU."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from llmpipe import checkpoint
from llmpipe.cache.odb import ObjectDB
from llmpipe.cache.state import SqliteState
from llmpipe.ckpt.snapshot import Snapshot
from llmpipe.ckpt.stream import WATCHER_NICE, Watcher, complete_names


def save(root: Path, step: int) -> None:
    with checkpoint.save(str(root), step) as folder:
        Path(folder, "w.bin").write_bytes(bytes([step]) * 100)


def test_the_watcher_pushes_each_new_set_of_checkpoints_and_the_latest_at_stop(
    tmp_path,
) -> None:
    root = tmp_path / "ckpts"
    root.mkdir()
    save(root, 1)  # there before the command: restored or kept, not pushed again
    pushed: list[tuple[str, ...]] = []
    niceness: list[int] = []
    ours = os.getpriority(os.PRIO_PROCESS, 0)

    def push(snapshot: Snapshot) -> None:
        pushed.append(snapshot.names)
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    state = SqliteState(str(tmp_path / "state.db"))
    watcher = Watcher(str(root), ObjectDB(str(tmp_path / "cache")), state, push, poll=0.01)
    try:
        watcher.start()
        save(root, 2)
        (root / ".step-000003.tmp").mkdir()  # half-written: invisible
        while not pushed:
            threading.Event().wait(0.01)
        save(root, 4)
        watcher.stop()
    finally:
        state.close()
    assert pushed[0] == ("step-000001", "step-000002")
    assert pushed[-1] == ("step-000001", "step-000002", "step-000004")
    assert watcher.errors == []
    if sys.platform.startswith("linux"):  # nice is per thread there: only the watcher's
        assert niceness[0] == WATCHER_NICE
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == ours


def test_complete_names_reads_one_directory_listing(tmp_path) -> None:
    (tmp_path / ".a.tmp").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "file").write_text("x")
    assert complete_names(str(tmp_path)) == ("a", "b")
    assert complete_names(str(tmp_path / "missing")) == ()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_lowering_the_watcher_leaves_the_process_priority_alone() -> None:
    from llmpipe.ckpt.stream import lower_thread_priority

    before = os.getpriority(os.PRIO_PROCESS, 0)
    seen: list[int] = []

    def body() -> None:
        lower_thread_priority()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [WATCHER_NICE] and os.getpriority(os.PRIO_PROCESS, 0) == before
