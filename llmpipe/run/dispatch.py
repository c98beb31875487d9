"""Where a stage's command runs: the executor interface between the scheduler and an engine.

The driver (the scheduler and `stage_run`) keeps the graph, the run-cache check,
dvc.lock and lineage. When a stage must execute and its executor is not `local`,
`stage_run` hands it to an `Executor`, which runs the command elsewhere and leaves
the outputs in the local cache and workspace; the driver then records the entry as
for a local run. `local` never goes through here: its path is the one it always was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..stage import HashInfo, Stage
    from .context import RunContext
    from .status import StageStatus


@dataclass
class Execution:
    """One stage's execution on an engine: its outputs, or why it failed, and where it ran."""

    out_hashes: dict[str, HashInfo] = field(default_factory=dict)
    exit_status: int | None = 0
    error: str | None = None
    node: str | None = None
    job_id: str | None = None
    executor: str = "local"
    # Found finished on the engine's side (the remote's run-cache): nothing was executed.
    restored: bool = False
    # Attempts whose worker was lost before this one: (the engine's reason, its job id).
    lost: list[tuple[str, str | None]] = field(default_factory=list)


# What an executor tells the driver about a stage while it works: (event, detail), as in
# `Reporter.stage_event`.
Notify = Callable[[str, str], None]


class Executor(Protocol):
    """Runs one stage's command somewhere else and brings its outputs back.

    `execute` returns an Execution (a failed command or a lost worker is a value with
    `error` set, never an exception that would stop stages running beside it).
    """

    name: str

    def execute(
        self, ctx: RunContext, stage: Stage, status: StageStatus, notify: Notify | None = None
    ) -> Execution: ...

    def close(self) -> None:
        """Let go of the engine (called once, when the run ends)."""


# The executor for a name other than "local" (made on first use: starting an engine costs).
ExecutorFor = Callable[[str], Executor]
