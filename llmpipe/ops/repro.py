"""`repro`: load, build the graph, select, schedule (`status` is ops/status.py).

The verb holds the repository lock throughout, composes params.yaml with Hydra
first (when enabled or overrides are given), hands the stages to the `run`
scheduler, records every stage run in the lineage store, and is audited with
the outputs each stage produced.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RunError, TargetError
from ..graph import Graph, build_graph, resolve_targets, select
from ..run.context import RunContext, run_context
from ..run.repolock import repo_lock
from ..run.status import frozen_missing_outputs
from ..spec import names_dvcyaml
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    # `status` runs nothing: the scheduler and the stage runner load with `repro`.
    from ..progress import Progress
    from ..project import Project
    from ..run.dispatch import Executor
    from ..run.reporter import Reporter
    from ..run.scheduler import ReproResult
    from ..run.stage_run import StageOutcome
    from ..stage import Stage


@dataclass(frozen=True)
class ReproRequest:
    """The options of one `repro`, as the command line gives them."""

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
    # Compose over a params.yaml edited by hand since the last composition (`force` does too).
    overwrite_params: bool = False
    # Where stages run unless they name an executor (`meta.llmpipe.executor`); `retries`:
    # how often a stage whose worker was lost is sent again.
    executor: str = "local"
    retries: int = 0
    # Leave the outputs of stages run elsewhere or restored in the cache (dvc.lock is
    # written; `llmpipe checkout` brings them into the workspace later).
    no_checkout: bool = False
    # Resume the one target stage from this pushed checkpoint (`llmpipe checkpoints list`).
    from_checkpoint: str | None = None


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
        _prepare_params(project, request, write=False)
        return _schedule(project, request, reporter, progress)
    with repo_lock(project.tmp_dir):
        changed = _prepare_params(project, request, write=True)
        result = _schedule(project, request, reporter, progress)
        result.params_changed = changed
        return result


def _prepare_params(project: Project, request: ReproRequest, write: bool) -> tuple[str, ...]:
    """Compose params.yaml (Hydra) and apply `-S` overrides; the keys of params.yaml they changed.

    A params.yaml edited by hand since the last composition stops the run
    (ConfigError) unless the request forces it.
    """
    from ..hydra import hydra_enabled

    # Only import Hydra (and omegaconf) when there is something for it to do.
    if not (request.overrides or hydra_enabled(project.config)):
        return ()
    from ..hydra.compose import prepare_params

    force = request.force or request.overwrite_params
    before = _params_values(project.root) if write else {}
    prepare_params(project.root, project.config, request.overrides, write=write, force=force)
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
    from ..run.scheduler import Scheduler, SchedulerOptions
    from ..run.stage_run import RunOptions

    graph = build_graph(project.stages())
    order = _plan(project, graph, request)
    ctx = run_context(project, progress)
    if not request.dry:
        _sync_url_imports(project, graph, order)
        _check_frozen_outputs(ctx, graph, order)
    wanted = _checkpoint_wanted(project, graph, request)
    options = SchedulerOptions(
        jobs=request.jobs,
        keep_going=request.keep_going,
        force_downstream=request.force_downstream,
        forced_targets=frozenset(wanted),
        run=RunOptions(force=request.force, dry=request.dry, use_run_cache=request.use_run_cache),
    )
    if request.dry:
        return Scheduler(ctx, graph, order, options, reporter).run()
    ctx.around_command = _around_command(project, wanted)
    if request.no_checkout:
        from ..run.standins import StandIns, prime

        ctx.stand_ins = StandIns(ctx.odb)
        prime(ctx.stand_ins, project.root, list(graph.stages.values()))
    recorder = _LazyRecorder(project, request.overrides)
    executors = _Executors(project, request.retries)
    options.run = options.run._replace(executor=request.executor, executors=executors)
    try:
        return Scheduler(ctx, graph, order, options, reporter, on_outcome=recorder).run()
    finally:
        recorder.close()
        executors.close()


def _checkpoint_wanted(project: Project, graph: Graph, request: ReproRequest) -> dict[str, str]:
    """{stage address: checkpoint id} for `--from-checkpoint` (one target stage, forced)."""
    if request.from_checkpoint is None:
        return {}
    addresses = resolve_targets(graph, request.targets, names_dvcyaml(project.root))
    if len(addresses) != 1:
        raise TargetError("--from-checkpoint resumes one stage: name exactly that stage")
    return {addresses[0]: request.from_checkpoint}


def _around_command(project: Project, wanted: dict[str, str]) -> Any:
    """What wraps each stage command: checkpoint resume and streaming (`llmpipe.ckpt`)."""

    def around(stage: Stage, inputs: dict[str, Any]) -> Any:
        from ..ckpt.spec import checkpoint_spec

        if checkpoint_spec(stage) is None:
            # The session would do nothing; importing it costs ~10 ms a command.
            return contextlib.nullcontext()
        from ..ckpt.session import checkpoint_session

        return checkpoint_session(
            project, stage, inputs, wanted.get(stage.address), _streaming_rights(project)
        )

    return around


def _streaming_rights(project: Project) -> Any:
    """Streaming checkpoints pushes, and resuming reads (and decrypts): the policy decides."""

    def check(remote: Any) -> None:
        from .transfer import require_transfer_rights

        require_transfer_rights(project, [remote], upload=True)
        require_transfer_rights(project, [remote], upload=False)

    return check


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


def _sync_url_imports(project: Project, graph: Graph, order: list[str]) -> None:
    """As dvc, an import-url not downloaded yet (`--no-exec`: no hash recorded) is
    downloaded; other imports are frozen (a missing output stops `repro`)."""
    for address in order:
        stage = graph.stages[address]
        if not (stage.is_data_source and stage.frozen):
            continue
        from ..spec import read_dvcfile_hash
        from ..spec.imports import read_import
        from .import_url import update_url

        if read_dvcfile_hash(project.root, stage.dvcfile) is not None:
            continue
        spec = read_import(project.root, stage.dvcfile)
        if spec is not None and spec.repo is None:
            update_url(project, stage.dvcfile, spec, to_remote=False, remote=None)


def _check_frozen_outputs(ctx: RunContext, graph: Graph, order: list[str]) -> None:
    """Stop before running anything when a frozen stage's outputs are missing (dvc
    fails on reaching the stage; its upstream is not run either way)."""
    for address in order:
        stage = graph.stages[address]
        if stage.frozen:
            missing = frozen_missing_outputs(ctx, stage)
            if missing:
                from ..run.stage_run import frozen_missing_message

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


class _Executors:
    """Opens an executor (Ray, Slurm) on the first stage that needs it, once per run."""

    def __init__(self, project: Project, retries: int) -> None:
        self.project, self.retries = project, retries
        self.opened: dict[str, Any] = {}
        self.mutex = threading.Lock()

    def __call__(self, name: str) -> Executor:
        from ..cluster.factory import open_executor

        with self.mutex:
            if name not in self.opened:
                self.opened[name] = open_executor(name, self.project, self.retries)
            return self.opened[name]

    def close(self) -> None:
        for executor in self.opened.values():
            executor.close()
