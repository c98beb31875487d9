"""Walk the selected stages in dependency order, `jobs` at a time.

A stage starts once every selected parent has finished. When a stage fails,
its descendants are not run; other branches stop being started unless
`keep_going` is set. Commands already running are allowed to finish.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..graph import Graph
from ..lockfile import LockWriter
from ..stage import Stage
from .context import RunContext
from .reporter import NullReporter, Reporter
from .stage_run import (
    RunOptions,
    StageOutcome,
    bring_frozen_up_to_date,
    bring_up_to_date,
    decide,
)
from .status import Reason, StageStatus


@dataclass
class ReproResult:
    """The outcomes of a `repro`, in the order stages finished."""

    outcomes: list[StageOutcome] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # blocked by a failed upstream
    # Keys of params.yaml that Hydra composition or -S overrides changed before the run.
    params_changed: tuple[str, ...] = ()

    def of_kind(self, kind: str) -> list[StageOutcome]:
        return [o for o in self.outcomes if o.kind == kind]

    @property
    def failed(self) -> list[StageOutcome]:
        return self.of_kind("failed")


class SchedulerOptions:
    """How the scheduler walks the stages.

    A slotted class, not a dataclass (~0.2 ms at every start-up); nothing compares it.
    """

    __slots__ = ("jobs", "keep_going", "force_downstream", "forced_targets", "run")

    def __init__(
        self,
        jobs: int = 1,
        keep_going: bool = False,
        force_downstream: bool = False,
        forced_targets: frozenset[str] = frozenset(),
        run: RunOptions | None = None,
    ) -> None:
        self.jobs = jobs
        self.keep_going = keep_going
        self.force_downstream = force_downstream
        self.forced_targets = forced_targets
        self.run = RunOptions() if run is None else run


OnOutcome = Callable[[StageOutcome], None]
T = TypeVar("T")


def in_worker_thread(on_interrupt: Callable[[], None], call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` on a thread of its own. A Ctrl-C interrupts the waiting main thread:
    `on_interrupt` stops the command, and the worker finishes (or fails) the stage whole
    before the interrupt goes on."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = call(*args)
        except BaseException as exc:  # handed to the caller, as a Future would
            box["error"] = exc

    worker = threading.Thread(target=work, name="llmpipe-stage")
    worker.start()
    try:
        worker.join()
    except KeyboardInterrupt:
        on_interrupt()
        worker.join()
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


class Scheduler:
    def __init__(
        self,
        ctx: RunContext,
        graph: Graph,
        order: list[str],
        options: SchedulerOptions,
        reporter: Reporter | None = None,
        on_outcome: OnOutcome | None = None,
    ) -> None:
        self.ctx, self.graph, self.order, self.options = ctx, graph, order, options
        self.reporter = reporter or NullReporter()
        self.on_outcome = on_outcome
        self.locks = LockWriter(ctx.root)
        self.result = ReproResult()
        selected = set(order)
        self.waiting = {a: set(graph.parents[a]) & selected for a in order}
        self._index = {address: number for number, address in enumerate(order)}
        self._ready: list[tuple[int, str]] = []
        self.forced: set[str] = set(options.forced_targets)
        self.dirty_upstream: set[str] = set()  # dry runs: upstream would run
        self.stop = False

    def run(self) -> ReproResult:
        try:
            return self._run()
        finally:
            self.locks.close()  # also on Ctrl-C: leave dvc.lock complete

    def _run(self) -> ReproResult:
        jobs = max(1, self.options.jobs)
        # Insertion-ordered, and a heap of the stages whose parents are done, by order:
        # scanning a list of pending stages after each one made 10,000 stages quadratic.
        pending = dict.fromkeys(self.order)
        self._ready = [(self._index[a], a) for a in self.order if not self.waiting[a]]
        if jobs == 1:
            self._run_one_at_a_time(pending)
        else:
            self._run_in_pool(pending, jobs)
        self.result.not_run.extend(pending)
        return self.result

    def _run_in_pool(self, pending: dict[str, None], jobs: int) -> None:
        import concurrent.futures as cf

        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            running: dict[cf.Future, str] = {}
            while pending or running:
                for address in self._take_ready(pending, jobs - len(running)):
                    running[pool.submit(self._process, address)] = address
                if not running:
                    break
                try:
                    done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                except KeyboardInterrupt:
                    self._interrupted()
                    raise
                for future in done:
                    self._finish(running.pop(future), future.result(), pending)

    def _run_one_at_a_time(self, pending: dict[str, None]) -> None:
        """One job: each stage is judged in this thread, and only a stage with work to
        do is handed to a worker thread (so that Ctrl-C lands here, never in the middle
        of saving its outputs). An up-to-date stage costs no thread hand-off."""
        while taken := self._take_ready(pending, 1):
            address = taken[0]
            self._finish(address, self._one(address), pending)

    def _one(self, address: str) -> StageOutcome | None:
        stage = self.graph.stages[address]
        if stage.is_data_source:
            return None
        if self.options.run.dry:
            return self._process(address)  # reads only
        judged = None
        if not stage.frozen:
            judged = self._judge(stage, address)
            if isinstance(judged, StageOutcome):
                self._report(judged)
                return judged
        return in_worker_thread(self._interrupted, self._process, address, judged)

    def _judge(self, stage: Stage, address: str) -> StageOutcome | StageStatus:
        """A skipped (or failed) outcome when the stage has nothing to do, else its status."""
        lock = self.locks.entry(stage.lockfile, stage.name)
        return decide(self.ctx, stage, lock, self.options.run.force or address in self.forced)

    def _interrupted(self) -> None:
        # Commands that ignore SIGINT would otherwise keep the worker waiting.
        self.stop = True
        from .execute import terminate_all

        terminate_all()

    def _take_ready(self, pending: dict[str, None], room: int) -> list[str]:
        taken: list[str] = []
        while not self.stop and self._ready and len(taken) < room:
            _, address = heapq.heappop(self._ready)
            if address in pending:  # not blocked by a failure meanwhile
                del pending[address]
                taken.append(address)
        return taken

    def _process(self, address: str, judged: StageStatus | None = None) -> StageOutcome | None:
        stage = self.graph.stages[address]
        if stage.is_data_source:
            return None
        if stage.frozen:
            return self._process_frozen(stage)
        if self.options.run.dry and address in self.dirty_upstream:
            # Its inputs will change once upstream runs; they may not even exist yet.
            outcome = StageOutcome(stage, "would-run", [Reason("upstream")])
            self._report(outcome)
            return outcome
        lock = self.locks.entry(stage.lockfile, stage.name)
        outcome = bring_up_to_date(
            self.ctx,
            stage,
            lock,
            self.locks,
            self.options.run,
            address in self.forced,
            announce=self.reporter.stage_started,
            events=self.reporter.stage_event,
            judged=judged,
        )
        self._report(outcome)
        return outcome

    def _process_frozen(self, stage: Stage) -> StageOutcome:
        lock = self.locks.entry(stage.lockfile, stage.name)
        outcome = bring_frozen_up_to_date(self.ctx, stage, lock, self.locks, self.options.run.dry)
        if outcome.kind == "failed":
            self._report(outcome)
        else:
            recorded = "; its changed outputs were recorded" if outcome.out_hashes else ""
            self.reporter.stage_skipped(stage, f"frozen{recorded}")
        return outcome

    def _report(self, outcome: StageOutcome) -> None:
        stage, reporter = outcome.stage, self.reporter
        if outcome.kind == "skipped":
            reporter.stage_skipped(stage, "up to date")
        elif outcome.kind == "would-run":
            reporter.would_run(stage, outcome.reasons)
        elif outcome.kind == "restored":
            reporter.stage_restored(stage, outcome.duration)
        elif outcome.kind == "ran":
            reporter.stage_finished(stage, outcome.duration)
        elif outcome.kind == "failed":
            reporter.stage_failed(stage, outcome.error or "failed")

    def _finish(self, address: str, outcome: StageOutcome | None, pending: dict[str, None]) -> None:
        for child in self.graph.children[address]:
            waiting = self.waiting.get(child)
            if waiting is not None and address in waiting:
                waiting.discard(address)
                if not waiting and child in pending:
                    heapq.heappush(self._ready, (self._index[child], child))
        if outcome is None:
            return
        self.result.outcomes.append(outcome)
        if self.on_outcome is not None and outcome.kind in ("ran", "restored", "failed"):
            self.on_outcome(outcome)
        if outcome.kind == "failed":
            self._block_descendants(address, pending)
        elif outcome.changed_outputs:
            self._mark_children(address)

    def _mark_children(self, address: str) -> None:
        descendants = self.graph.downstream(address) - {address}
        if self.options.force_downstream:
            self.forced |= descendants
        if self.options.run.dry:
            self.dirty_upstream |= descendants

    def _block_descendants(self, address: str, pending: dict[str, None]) -> None:
        blocked = self.graph.downstream(address) - {address}
        for child in [a for a in pending if a in blocked]:
            del pending[child]
            self.result.not_run.append(child)
        if not self.options.keep_going:
            self.stop = True
