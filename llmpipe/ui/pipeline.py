"""The pipeline page's values: each stage with its state, and the live state of a `repro`.

A stage's state comes from `ops.status.status` (up to date, or changed and why),
from its last lineage record (failed), and, while another process holds the
repository lock, from that run itself: the stages its journal has recorded
(ran, restored, failed) and the stage commands alive right now. Those commands
carry `LLMPIPE_ROOT` and `LLMPIPE_STAGE` in their environment (`run.execute`),
which `/proc` shows on Linux; elsewhere the page shows that a run is going on
without naming the running stage.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import LlmpipeError

if TYPE_CHECKING:
    from ..lineage.record import RunRecord
    from ..project import Project
    from ..stage import HashInfo, Stage

LOCK_FILE = "lock"  # .dvc/tmp/lock, run/repolock.py


def record_address(record: RunRecord) -> str:
    """The stage address (`train`, `sub/dvc.yaml:train`) a lineage record belongs to."""
    if record.dvcfile in ("dvc.yaml", ""):
        return record.stage
    return f"{record.dvcfile}:{record.stage}"


@dataclass(frozen=True)
class StageState:
    address: str
    state: str  # up-to-date, changed, failed, frozen, data, running, ran, restored
    reasons: tuple[str, ...] = ()
    desc: str | None = None


@dataclass
class PipelineView:
    """Stages in topological order with their states, and the graph's edges."""

    stages: list[StageState] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def pipeline_view(project: Project, last_runs: dict[str, RunRecord]) -> PipelineView:
    """Every stage's state; a pipeline that does not load is an `error`, not an exception.

    `last_runs` maps a stage address to its latest lineage record.
    """
    from ..graph import build_graph
    from ..ops.status import status

    try:
        graph = build_graph(project.stages())
        entries = status(project)
    except LlmpipeError as exc:
        return PipelineView(error=str(exc))
    order = [entry.address for entry in entries]
    chosen = set(order)
    view = PipelineView()
    view.edges = sorted((p, c) for c in order for p in graph.parents[c] if p in chosen)
    for entry in entries:
        stage = graph.stages[entry.address]
        reasons = tuple(str(r) for r in entry.reasons)
        state = _state(stage, reasons, entry.frozen, last_runs.get(entry.address))
        view.stages.append(StageState(entry.address, state, reasons, stage.desc))
    return view


def _state(stage: Stage, reasons: tuple[str, ...], frozen: bool, last: RunRecord | None) -> str:
    if frozen:
        return "frozen"
    if not reasons:
        return "data" if stage.is_data_source else "up-to-date"
    if last is not None and last.status == "failed":
        return "failed"
    return "changed"


@dataclass(frozen=True)
class Live:
    """A `repro` (or dvc) holding the repository lock, and what its run has done so far."""

    running: bool = False
    pid: int | None = None
    stages: dict[str, str] = field(default_factory=dict)  # address -> running/ran/restored/failed

    def to_json(self) -> dict[str, object]:
        signature = f"{self.running}:{sorted(self.stages.items())}"
        return {"running": self.running, "pid": self.pid, "stages": self.stages, "sig": signature}


def live_state(project: Project) -> Live:
    """What a run in another process is doing now; cheap enough to ask every second."""
    lock = os.path.join(project.dvc_dir, "tmp", LOCK_FILE)
    pid, since = _lock_holder(lock)
    if pid is None:
        return Live()
    stages = _journal_states(os.path.join(project.llmpipe_dir, "lineage"), since)
    for address in _running_stages(project.root):
        stages[address] = "running"
    return Live(True, pid, stages)


def _lock_holder(path: str) -> tuple[int | None, float]:
    """The live process whose PID the lock file holds, and when it took the lock.

    The holder writes its PID when it takes the lock and empties the file when it
    lets go (`run.repolock`); a PID of a process that is gone is a crash's leftover.
    Taking the lock to test it would make a `repro` starting that moment fail.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read().strip()
        since = os.stat(path).st_mtime
    except OSError:
        return None, 0.0
    if not text.isdigit():
        return None, 0.0
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None, 0.0
    except PermissionError:
        pass  # alive, another user's
    return pid, since


def _journal_states(lineage_dir: str, since: float) -> dict[str, str]:
    """Stages the current run recorded in its journal (`lineage.journal`) since `since`."""
    from ..lineage.journal import JOURNAL_DIR, read_journal

    directory = os.path.join(lineage_dir, JOURNAL_DIR)
    found: dict[str, str] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if entry.name.endswith(".jsonl") and entry.stat().st_mtime >= since - 1:
                with contextlib.suppress(OSError):
                    for record in read_journal(entry.path):
                        if record.started_at.timestamp() >= since - 1:
                            found[record_address(record)] = record.status
    return found


def _running_stages(root: str) -> list[str]:
    """Stages whose commands run now for the project at `root` (Linux `/proc`; else none)."""
    wanted = f"LLMPIPE_ROOT={root}".encode()
    found = []
    for environ in _process_environments():
        if wanted in environ:
            stage = _variable(environ, b"LLMPIPE_STAGE=")
            if stage:
                found.append(stage)
    return sorted(set(found))


def _process_environments() -> Iterable[list[bytes]]:
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                yield handle.read().split(b"\0")
        except OSError:
            continue  # gone, or another user's


def _variable(environ: list[bytes], prefix: bytes) -> str | None:
    for item in environ:
        if item.startswith(prefix):
            return item[len(prefix) :].decode("utf-8", "replace")
    return None


def with_live(view: PipelineView, live: Live) -> PipelineView:
    """`view` with the states of a running `repro` laid over the stages it has touched."""
    if not live.stages:
        return view
    stages = [
        StageState(s.address, live.stages.get(s.address, s.state), s.reasons, s.desc)
        for s in view.stages
    ]
    return PipelineView(stages, view.edges, view.error)


@dataclass(frozen=True)
class Artifact:
    """A dep or out of a stage, with the hash its lock file records (None: not recorded)."""

    path: str  # repository-relative
    hash: str | None
    size: int | None = None
    nfiles: int | None = None
    kind: str = "dep"  # dep, out, metric, plot


@dataclass
class StageDetail:
    stage: Stage
    state: StageState
    deps: list[Artifact] = field(default_factory=list)
    outs: list[Artifact] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)  # file -> recorded values
    runs: list[RunRecord] = field(default_factory=list)


def stage_detail(
    project: Project, address: str, view: PipelineView, runs: list[RunRecord]
) -> StageDetail:
    """One stage: command, deps and outs with their recorded hashes, params, last runs.

    TargetError when the pipeline has no stage `address`.
    """
    from ..errors import TargetError
    from ..lockfile import hashes_in, read_lock

    stages = {s.address: s for s in project.stages()}
    if address not in stages:
        raise TargetError(f"no stage '{address}' in this pipeline")
    stage = stages[address]
    state = next((s for s in view.stages if s.address == address), StageState(address, "changed"))
    entry = {} if stage.is_data_source else read_lock(project.root, stage.lockfile).get(stage.name)
    entry = entry or {}
    deps, outs = hashes_in(entry, "deps"), hashes_in(entry, "outs")
    detail = StageDetail(stage, state, params=dict(entry.get("params") or {}))
    detail.deps = [_artifact(stage, d.path, deps.get(d.path), "dep") for d in stage.deps]
    detail.outs = [_artifact(stage, o.path, outs.get(o.path), o.kind) for o in stage.outs]
    detail.runs = [r for r in runs if record_address(r) == address][:20]
    return detail


def _artifact(stage: Stage, path: str, info: HashInfo | None, kind: str) -> Artifact:
    if info is None:
        return Artifact(stage.repo_path(path), None, kind=kind)
    return Artifact(stage.repo_path(path), info.value, info.size, info.nfiles, kind)
