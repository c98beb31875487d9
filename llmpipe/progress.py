"""Progress reporting as an object passed in; the library never prints.

Operations call `start` once, `advance` as work is done (bytes or files, as the
description says), and `finish` at the end. The default does nothing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress events; the CLI supplies one that draws a bar."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


class TransferProgress(Progress, Protocol):
    """Progress of a transfer: `advance` counts objects, `add_bytes` their bytes."""

    def add_bytes(self, n: int) -> None: ...


class NoProgress:
    """A `TransferProgress` that ignores every event (the default everywhere)."""

    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass

    def add_bytes(self, n: int) -> None:
        pass
