"""The watcher: a thread beside a running stage that streams its checkpoints out.

It polls the checkpoint directory (one `scandir` per tick). When the set of
complete checkpoints changed, it snapshots the directory into the cache and
hands the snapshot to `push`. One snapshot is in flight at a time, and the next
is taken of the directory as it then stands: with a slow remote, checkpoints
completed meanwhile get no record of their own (their files travel with the
next snapshot), and the newest one is always the next pushed. `stop` pushes
whatever the last tick had not, so the latest checkpoint is never dropped.
The training command is a process of its own, so the watcher shares no GIL with it;
what it could take from training is CPU time. On Linux, where the nice value is per
thread, the watcher lowers its own priority (and the upload threads it starts inherit
it): on a busy machine training runs first, and checkpoints go out in the gaps. A
tick that finds nothing new costs one `scandir`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

from ..cache.odb import ObjectDB
from ..cache.state import StateDB
from ..checkpoint import is_complete_name
from .snapshot import Snapshot, take_snapshot

POLL_SECONDS = 0.2
# The nice value of the watcher thread (Linux): the lowest priority, below training's.
WATCHER_NICE = 19


class Watcher:
    """Streams the checkpoints of one directory while a command runs."""

    def __init__(
        self,
        directory: str,
        odb: ObjectDB,
        state: StateDB,
        push: Callable[[Snapshot], None],
        poll: float = POLL_SECONDS,
    ) -> None:
        self.directory, self.odb, self.state, self.push = directory, odb, state, push
        self.poll = poll
        self.errors: list[str] = []
        self._pushed: tuple[str, ...] = self._names()  # already there: restored or kept
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmpipe-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, then push the latest checkpoint if it is not out yet."""
        self._stop.set()
        self._thread.join()
        self._tick()

    def _run(self) -> None:
        lower_thread_priority()
        while not self._stop.wait(self.poll):
            self._tick()

    def _names(self) -> tuple[str, ...]:
        return complete_names(self.directory)

    def _tick(self) -> None:
        if self._names() == self._pushed:
            return
        try:
            snapshot = take_snapshot(self.directory, self.odb, self.state)
            names = tuple(sorted(snapshot.names)) if snapshot is not None else ()
            if snapshot is not None and names != self._pushed:
                self.push(snapshot)
                self._pushed = names
        except Exception as exc:  # noqa: BLE001 - training goes on; the error is reported
            message = str(exc) or type(exc).__name__
            if message not in self.errors:
                self.errors.append(message)


def complete_names(directory: str) -> tuple[str, ...]:
    """The names of the complete checkpoint folders, sorted: one `scandir`, no file read."""
    try:
        with os.scandir(directory) as entries:
            return tuple(sorted(e.name for e in entries if is_complete_name(e.name) and e.is_dir()))
    except (FileNotFoundError, NotADirectoryError):
        return ()


def lower_thread_priority() -> None:
    """Give the calling thread the lowest CPU priority; Linux only, where the nice value
    is per thread (elsewhere it is the whole process's, which must keep its own)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WATCHER_NICE)
