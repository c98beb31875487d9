"""The watcher: a thread beside a running stage that streams its checkpoints out.

It polls the checkpoint directory (one `scandir` per tick). When the set of
complete checkpoints changed, it snapshots the directory into the cache and
hands the snapshot to `push`. One snapshot is in flight at a time, and the next
is taken of the directory as it then stands: with a slow remote, checkpoints
completed meanwhile get no record of their own (their files travel with the
next snapshot), and the newest one is always the next pushed. `stop` pushes
whatever the last tick had not, so the latest checkpoint is never dropped.
Training is never slowed by more than the thread's own hashing and I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..cache.odb import ObjectDB
from ..cache.state import StateDB
from ..checkpoint import complete
from .snapshot import Snapshot, take_snapshot

POLL_SECONDS = 0.2


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
        while not self._stop.wait(self.poll):
            self._tick()

    def _names(self) -> tuple[str, ...]:
        return tuple(c.name for c in complete(self.directory))

    def _tick(self) -> None:
        if self._names() == self._pushed:
            return
        try:
            snapshot = take_snapshot(self.directory, self.odb, self.state)
            if snapshot is not None and snapshot.names != self._pushed:
                self.push(snapshot)
                self._pushed = snapshot.names
        except Exception as exc:  # noqa: BLE001 - training goes on; the error is reported
            message = str(exc) or type(exc).__name__
            if message not in self.errors:
                self.errors.append(message)
