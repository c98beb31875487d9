"""`repro` and `status` for a repository: load, build the graph, select, schedule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..graph import Graph, build_graph, resolve_targets, select
from ..lockfile import LockWriter
from .context import RunContext
from .repolock import repo_lock
from .reporter import Reporter
from .scheduler import ReproResult, Scheduler, SchedulerOptions
from .stage_run import RunOptions
from .status import Reason, stage_status

if TYPE_CHECKING:
    from ..progress import Progress
    from ..repo import Repo


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


def run_context(repo: Repo, progress: Progress | None = None) -> RunContext:
    import os

    from ..progress import NoProgress

    return RunContext(
        root=repo.root,
        odb=repo.odb,
        state=repo.state,
        hash_name=repo.config.hash_name,
        link_types=repo.config.link_types,
        runs_dir=os.path.join(repo.cache_dir, "runs"),
        progress=progress or NoProgress(),
    )


def load_graph(repo: Repo) -> Graph:
    return build_graph(repo.stages())


def reproduce(
    repo: Repo,
    request: ReproRequest,
    reporter: Reporter | None = None,
    progress: Progress | None = None,
) -> ReproResult:
    """Bring the targets (default: every stage) up to date; the lock is held throughout.

    With Hydra enabled or `overrides` given, params.yaml is composed first (under the
    lock, before the graph is read); a dry run only validates the overrides.
    """
    if request.dry:
        _prepare_params(repo, request.overrides, write=False)
        return _reproduce(repo, request, reporter, progress)
    with repo_lock(repo.tmp_dir):
        _prepare_params(repo, request.overrides, write=True)
        return _reproduce(repo, request, reporter, progress)


def _prepare_params(repo: Repo, overrides: tuple[str, ...], write: bool) -> None:
    from ..hydra.settings import hydra_enabled

    # Only import Hydra (and omegaconf) when there is something for it to do.
    if overrides or hydra_enabled(repo.config):
        from ..hydra.compose import prepare_params

        prepare_params(repo, overrides, write=write)


def _reproduce(
    repo: Repo,
    request: ReproRequest,
    reporter: Reporter | None,
    progress: Progress | None,
) -> ReproResult:
    graph = load_graph(repo)
    targets = resolve_targets(graph, request.targets)
    order = select(graph, targets, single_item=request.single_item, downstream=request.downstream)
    options = SchedulerOptions(
        jobs=request.jobs,
        keep_going=request.keep_going,
        force_downstream=request.force_downstream,
        run=RunOptions(
            force=request.force,
            dry=request.dry,
            use_run_cache=request.use_run_cache,
        ),
    )
    if request.dry:
        return Scheduler(run_context(repo, progress), graph, order, options, reporter).run()
    recorder = _LazyRecorder(repo, request.overrides)
    scheduler = Scheduler(
        run_context(repo, progress), graph, order, options, reporter, on_outcome=recorder
    )
    try:
        return scheduler.run()
    finally:
        recorder.close()


class _LazyRecorder:
    """Starts a lineage journal on the first record: a no-op run touches neither git nor it."""

    def __init__(self, repo: Repo, overrides: tuple[str, ...]) -> None:
        self.repo, self.overrides = repo, overrides
        self.recorder = None

    def __call__(self, outcome) -> None:  # noqa: ANN001
        from ..security.audit import note_target

        for path, info in sorted(outcome.out_hashes.items()):
            note_target(outcome.stage.repo_path(path), info.value, stage=outcome.stage.address)
        if outcome.kind == "failed":
            note_target(outcome.stage.address, None, stage=outcome.stage.address, failed=True)
        if self.recorder is None:
            from .recording import LineageRecorder

            self.recorder = LineageRecorder(self.repo.lineage, self.repo.root, self.overrides)
        self.recorder(outcome)

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()


@dataclass(frozen=True)
class StatusEntry:
    address: str
    reasons: tuple[Reason, ...]
    frozen: bool = False


def status(
    repo: Repo, targets: Sequence[str] = (), progress: Progress | None = None
) -> list[StatusEntry]:
    """Per stage (targets and their upstream), why it would run; empty reasons: up to date."""
    graph = load_graph(repo)
    order = select(graph, resolve_targets(graph, targets))
    ctx = run_context(repo, progress)
    locks = LockWriter(repo.root)
    entries = []
    for address in order:
        stage = graph.stages[address]
        if stage.frozen:
            entries.append(StatusEntry(address, (), frozen=True))
            continue
        if stage.is_data_source:
            entries.append(StatusEntry(address, tuple(_data_source_reasons(ctx, stage))))
            continue
        result = stage_status(ctx, stage, locks.entry(stage.lockfile, stage.name))
        entries.append(StatusEntry(address, tuple(result.reasons)))
    return entries


def _data_source_reasons(ctx: RunContext, stage) -> list[Reason]:  # noqa: ANN001
    from ..cache.checkout import in_cache
    from ..spec import read_dvcfile_hash
    from .status import current_hash

    out = stage.outs[0]
    recorded = read_dvcfile_hash(ctx.root, stage.dvcfile)
    current = current_hash(ctx, stage, out.path)
    if current is None:
        return [Reason("out-missing", out.path)]
    if recorded is None or recorded.value != current.value:
        return [Reason("out-modified", out.path)]
    if not in_cache(ctx.odb, recorded):
        return [Reason("out-not-cached", out.path)]
    return []
