"""Where the event log lives: a local folder (default `.llmpipe/registry/`) or shared storage.

Both stores expose `lines()` (the raw canonical-JSON events, in order) and
`append(make)`: `make` receives the events so far and returns the next one
(or raises to refuse); the store makes sure no concurrent writer's event is
lost or overwritten.

- `LocalStore`: `events.jsonl`, one event per line. Appends happen under an
  flock (`.lock`), after cutting a partial line a crash may have left, and
  are fsynced: concurrent processes append one after another.
- `SharedStore`: one object per event, `events/<seq, 10 digits>.json`, on any
  storage backend (`llmpipe.storage`: S3, SSH, GCS, Azure, memory; the `url:`
  of `registry.yaml`, see `location`). Each is created exclusively and whole
  (`Backend.create_bytes`: a conditional PUT on S3, a rename that refuses to
  overwrite on SFTP); a writer that loses the race for a sequence number
  re-reads the log and tries again. Backends without exclusive create fall back
  to check-then-write (best effort) and may show an object before its bytes,
  so, as in `LocalStore`, an event is committed once it ends with its newline:
  a last one without it is still being written (or was cut) and is not read.

A store opened for a project (`open_store`) also has a witness: reading
refuses a log shorter than this clone has seen it, or rewritten at that
point (the last events dropped from git or from a shared store), and
reading or appending remembers how far it has been seen
(`security.witness`). Stores made directly, as in tests, have none.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import RegistryError
from ..fsutil import append_durably, locked
from ..security.canonical import load_json
from .events import event_hash

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ..security.witness import Log, Mark, Witness
    from ..storage import Backend

EVENTS_FILE = "events.jsonl"
LOCK_FILE = ".lock"
_RETRIES = 50

Make = Callable[[list[dict[str, Any]]], dict[str, Any]]


def parse_lines(lines: list[bytes], where: str) -> list[dict[str, Any]]:
    """The events of a log; RegistryError naming the line when one is not JSON."""
    events = []
    for number, raw in enumerate(lines, 1):
        try:
            event = load_json(raw)
        except ValueError:
            raise RegistryError(
                f"{where}: event {number} is not JSON (edited or cut?): "
                "run 'llmpipe registry verify'"
            ) from None
        if not isinstance(event, dict):
            raise RegistryError(f"{where}: event {number} is not a JSON object")
        events.append(event)
    return events


class EventStore:
    location: str
    witness: Witness | None = None
    log: Log | None = None

    def lines(self) -> list[bytes]:
        raise NotImplementedError

    def append(self, make: Make) -> dict[str, Any]:
        raise NotImplementedError

    def events(self) -> list[dict[str, Any]]:
        """The events, in order; RegistryError if the log went back from what was seen."""
        seen = self.seen()  # before reading: a concurrent append may grow the log meanwhile
        events = parse_lines(self.lines(), self.location)
        fault = self.check_history(events, seen)
        if fault is not None:
            raise RegistryError(fault)
        return events

    def seen(self) -> Mark | None:
        """How far this clone has seen the log (None without a witness or before a read)."""
        return self.witness.mark(self.log.id) if self.witness and self.log else None

    def check_history(self, events: list[dict[str, Any]], seen: Mark | None) -> str | None:
        """Why `events` go back from `seen`, or None; remembers them when their chain links.

        A log whose hash links are broken is checked but not remembered:
        `registry verify` names its fault.
        """
        if self.witness is None or self.log is None:
            return None
        from ..security.witness import rewound

        hashes = [event_hash(event) for event in events]
        if not _linked(events, hashes):
            return rewound(self.log, hashes, seen)
        return self.witness.observe(self.log, hashes, seen)

    def _remember(self, events: list[dict[str, Any]]) -> None:
        # After an append: the new event chains to events that were just checked.
        self.check_history(events, None)


def _linked(events: list[dict[str, Any]], hashes: list[str]) -> bool:
    return all(
        event.get("seq") == index and event.get("prev") == (hashes[index - 1] if index else None)
        for index, event in enumerate(events)
    )


class LocalStore(EventStore):
    """The log as one JSON-lines file in a folder (committed to git by default)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, EVENTS_FILE)
        self.location = self.path

    def lines(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return []
        # A last line without its newline was never committed (crash mid-append).
        return [line for line in data.split(b"\n")[:-1] if line]

    def append(self, make: Make) -> dict[str, Any]:
        from ..security.canonical import canonical_json

        with self._locked():
            events = self.events()
            event = make(events)
            self._append(canonical_json(event) + b"\n")
        self._remember([*events, event])
        return event

    def _locked(self) -> AbstractContextManager[None]:
        os.makedirs(self.directory, exist_ok=True)
        ignore = os.path.join(self.directory, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write(LOCK_FILE + "\n")
        return locked(os.path.join(self.directory, LOCK_FILE))

    def _append(self, data: bytes) -> None:
        append_durably(self.path, data)


class SharedStore(EventStore):
    """The log as one object per event under a prefix of a storage backend."""

    def __init__(self, backend: Backend, location: str) -> None:
        self.backend = backend
        self.location = location

    def lines(self) -> list[bytes]:
        names = sorted(p for p in self.backend.list_files("events") if p.endswith(".json"))
        lines = [self.backend.get_bytes(name) for name in names]
        if lines and not lines[-1].endswith(b"\n"):
            lines.pop()  # being written by another process (or cut): not committed
        return [line.rstrip(b"\n") for line in lines]

    def append(self, make: Make) -> dict[str, Any]:
        from ..security.canonical import canonical_json

        for attempt in range(_RETRIES):
            events = self.events()
            event = make(events)
            name = f"events/{int(event['seq']):010d}.json"
            if self.backend.create_bytes(name, canonical_json(event) + b"\n"):
                self._remember([*events, event])
                return event
            time.sleep(0.01 * min(attempt, 10))  # let the writer that won finish
        raise RegistryError(
            f"{self.location}: could not append after {_RETRIES} attempts (too many "
            "concurrent writers, or a crash cut the last event); try again, and if it "
            "keeps failing run 'llmpipe registry verify'"
        )


def open_store(root: str, url: str | None = None) -> EventStore:
    """The event store of the project at `root`: `url` from the config, else the local folder."""
    if url is None:
        from .config import load_config

        url = load_config(root).url
    return _witnessed(_store_at(root, url), root)


def _store_at(root: str, url: str | None) -> EventStore:
    if not url:
        return LocalStore(os.path.join(root, ".llmpipe", "registry"))
    from ..storage import open_backend
    from .location import storage_location

    location = storage_location(root, url, "the registry")
    path = location.local_path
    if path is not None:
        return LocalStore(path if os.path.isabs(path) else os.path.join(root, path))
    return SharedStore(open_backend(location), url)


def _witnessed(store: EventStore, root: str) -> EventStore:
    """Give the project's store this clone's witness, under a name for its messages."""
    from ..security.witness import Log, Witness

    root = os.path.abspath(root)
    local = isinstance(store, LocalStore)
    where = store.location
    in_project = local and os.path.abspath(where).startswith(root + os.sep)
    if in_project:
        where = os.path.relpath(where, root).replace(os.sep, "/")
    store.witness = Witness.of(root)
    store.log = Log(
        "registry" if where == f".llmpipe/registry/{EVENTS_FILE}" else f"registry:{where}",
        where if local else f"the registry {where}",
        "event",
        restore=(
            f"git checkout <the commit you trust> -- {where}"
            if in_project
            else "put the missing events back from a copy of the log"
        ),
        accept="registry",
    )
    return store


def open_registry(root: str) -> EventStore:
    return open_store(root)


def read_state(root: str) -> Any:
    """The replayed state of the project's registry (no signature checks; see `verify`)."""
    from .state import replay

    store = open_store(root)
    return replay(store.events(), store.location)
