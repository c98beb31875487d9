"""`repro` and `status`: load, build the graph, select, schedule.

The verb holds the repository lock throughout, composes params.yaml with Hydra
first (when enabled or overrides are given), hands the stages to the `run`
scheduler, records every stage run in the lineage store, and is audited with
the outputs each stage produced.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RunError, TargetError
from ..graph import Graph, build_graph, resolve_targets, select
from ..run.context import RunContext, run_context
from ..run.repolock import repo_lock
from ..run.scheduler import ReproResult, Scheduler, SchedulerOptions
from ..run.stage_run import RunOptions, StageOutcome, frozen_missing_message
from ..run.status import StatusEntry, frozen_missing_outputs, statuses
from ..spec import names_dvcyaml
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..progress import Progress
    from ..project import Project
    from ..run.reporter import Reporter


@dataclass(frozen=True)
class ReproRequest:
    targets: tuple[str, ...] = ()
    force: bool = False
    single_item: bool = False
    downstream: bool = False
    force_downstream: bool = False
    jobs: int = 1
    dry: bool = False
    keep_going: bool = False
    use_run_cache: bool = True
    overrides: tuple[str, ...] = ()
    all_pipelines: bool = False


def describe_repro(result: ReproResult) -> tuple[Targets, Outcome]:
    """Each output a stage produced or restored, and each failed stage."""
    targets: Targets = []
    for outcome in result.outcomes:
        stage = outcome.stage
        for path, info in sorted(outcome.out_hashes.items()):
            targets.append(
                {"path": stage.repo_path(path), "hash": info.value, "stage": stage.address}
            )
        if outcome.kind == "failed":
            targets.append(
                {"path": stage.address, "hash": None, "stage": stage.address, "failed": True}
            )
    if result.failed:
        return targets, Outcome("failed", 1, result.failed[0].error)
    return targets, Outcome()


@audited("repro", describe=describe_repro, only_if_targets=True)
def reproduce(
    project: Project,
    request: ReproRequest,
    reporter: Reporter | None = None,
    progress: Progress | None = None,
) -> ReproResult:
    """Bring the targets (default: every stage) up to date; the lock is held throughout.

    With Hydra enabled or `overrides` given, params.yaml is composed first (under the
    lock, before the graph is read); a dry run only validates the overrides.
    """
    if request.dry:
        _prepare_params(project, request.overrides, write=False)
        return _schedule(project, request, reporter, progress)
    with repo_lock(project.tmp_dir):
        changed = _prepare_params(project, request.overrides, write=True)
        result = _schedule(project, request, reporter, progress)
        result.params_changed = changed
        return result


def _prepare_params(project: Project, overrides: tuple[str, ...], write: bool) -> tuple[str, ...]:
    """Compose params.yaml (Hydra) and apply `-S`; the keys of params.yaml that changed."""
    from ..hydra.settings import hydra_enabled

    # Only import Hydra (and omegaconf) when there is something for it to do.
    if not (overrides or hydra_enabled(project.config)):
        return ()
    from ..hydra.compose import prepare_params

    before = _params_values(project.root)
    prepare_params(project.root, project.config, overrides, write=write)
    return _changed_keys(before, _params_values(project.root)) if write else ()


def _params_values(root: str) -> dict[str, Any]:
    from ..errors import SpecError
    from ..metrics import flatten
    from ..spec import read_params_file

    try:
        return flatten(read_params_file(os.path.join(root, "params.yaml")), keep_lists=True)
    except (OSError, SpecError):
        return {}  # missing or unreadable: every key composed counts as changed


def _changed_keys(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    keys = before.keys() | after.keys()
    return tuple(sorted(k for k in keys if before.get(k, _ABSENT) != after.get(k, _ABSENT)))


_ABSENT = object()


def _schedule(
    project: Project,
    request: ReproRequest,
    reporter: Reporter | None,
    progress: Progress | None,
) -> ReproResult:
    graph = build_graph(project.stages())
    order = _plan(project, graph, request)
    ctx = run_context(project, progress)
    if not request.dry:
        _check_frozen_outputs(ctx, graph, order)
    options = SchedulerOptions(
        jobs=request.jobs,
        keep_going=request.keep_going,
        force_downstream=request.force_downstream,
        run=RunOptions(force=request.force, dry=request.dry, use_run_cache=request.use_run_cache),
    )
    if request.dry:
        return Scheduler(ctx, graph, order, options, reporter).run()
    recorder = _LazyRecorder(project, request.overrides)
    try:
        return Scheduler(ctx, graph, order, options, reporter, on_outcome=recorder).run()
    finally:
        recorder.close()


def _plan(project: Project, graph: Graph, request: ReproRequest) -> list[str]:
    """The stages `repro` considers, in order, chosen as dvc chooses them.

    No targets means the root dvc.yaml (`-P` every pipeline). Targets that select
    no stage (a dvc.yaml with `stages: {}`) leave the whole graph, as in dvc.
    """
    if request.all_pipelines:
        return graph.order()
    targets = request.targets or (_root_dvcyaml(project),)
    addresses = resolve_targets(graph, targets, names_dvcyaml(project.root))
    return select(
        graph,
        addresses,
        single_item=request.single_item,
        downstream=request.downstream,
        frozen_cut=True,
    )


def _root_dvcyaml(project: Project) -> str:
    if not os.path.isfile(os.path.join(project.root, "dvc.yaml")):
        raise TargetError(
            f"'{os.path.join(project.root, 'dvc.yaml')}' does not exist; name the stages"
            " or dvc.yaml files to reproduce, or run every pipeline with -P/--all-pipelines"
        )
    return "dvc.yaml"


def _check_frozen_outputs(ctx: RunContext, graph: Graph, order: list[str]) -> None:
    """Stop before running anything when a frozen stage's outputs are missing (dvc
    fails on reaching the stage; its upstream is not run either way)."""
    for address in order:
        stage = graph.stages[address]
        if stage.frozen:
            missing = frozen_missing_outputs(ctx, stage)
            if missing:
                raise RunError(frozen_missing_message(stage, missing))


class _LazyRecorder:
    """Starts a lineage journal on the first record: a no-op run touches neither git nor it."""

    def __init__(self, project: Project, overrides: tuple[str, ...]) -> None:
        self.project, self.overrides = project, overrides
        self.recorder: Any = None

    def __call__(self, outcome: StageOutcome) -> None:
        if self.recorder is None:
            from ..run.recording import LineageRecorder

            self.recorder = LineageRecorder(self.project.lineage, self.project.root, self.overrides)
        self.recorder(outcome)

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()


def status(
    project: Project, targets: Sequence[str] = (), progress: Progress | None = None
) -> list[StatusEntry]:
    """Per stage (targets and their upstream), why it would run; empty reasons: up to date."""
    graph = build_graph(project.stages())
    addresses = resolve_targets(graph, targets, names_dvcyaml(project.root))
    if targets and not addresses:
        return []  # a dvc.yaml without stages: nothing to report, as in dvc
    order = select(graph, addresses)
    return statuses(run_context(project, progress), graph.stages, order)
