"""What the scheduler tells its caller while it works; the library never prints.

The CLI passes an implementation that renders lines and progress bars; the
API default does nothing.
"""

from __future__ import annotations

from typing import Protocol

from ..stage import Stage
from .status import Reason


class Reporter(Protocol):
    def stage_skipped(self, stage: Stage, why: str) -> None: ...
    def stage_started(self, stage: Stage, reasons: list[Reason]) -> None: ...
    def stage_restored(self, stage: Stage, duration: float) -> None: ...
    def stage_finished(self, stage: Stage, duration: float) -> None: ...
    def stage_failed(self, stage: Stage, error: str) -> None: ...
    def would_run(self, stage: Stage, reasons: list[Reason]) -> None: ...
    def stage_event(self, stage: Stage, event: str, detail: str) -> None:
        """A stage sent to an executor: `queued` (detail: engine and job), `running`
        (detail: the node), `lost` (detail: the engine's reason; it is sent again) or
        `output` (detail: what its command printed on the worker)."""


class NullReporter:
    def stage_skipped(self, stage: Stage, why: str) -> None:
        pass

    def stage_started(self, stage: Stage, reasons: list[Reason]) -> None:
        pass

    def stage_restored(self, stage: Stage, duration: float) -> None:
        pass

    def stage_finished(self, stage: Stage, duration: float) -> None:
        pass

    def stage_failed(self, stage: Stage, error: str) -> None:
        pass

    def would_run(self, stage: Stage, reasons: list[Reason]) -> None:
        pass

    def stage_event(self, stage: Stage, event: str, detail: str) -> None:
        pass
