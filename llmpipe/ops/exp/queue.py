"""`exp run --queue` and `exp run --run-all -j N`: experiments queued now, run later in parallel.

Queuing snapshots the workspace as a commit on HEAD (kept alive by
`refs/llmpipe/exp-queue/<id>`, outside dvc's namespace) and writes an entry
(name, overrides, targets, baseline, snapshot) under `.dvc/tmp/exp-queue/`.
Running takes each entry in a copy of the project made from its snapshot
(sharing the cache and the git directory, as sweep jobs do), reproduces with
its overrides and saves the result as an experiment on the entry's baseline;
`jobs` copies run at once, each in its own process. This queue is llmpipe's
own: dvc's (celery) queue and llmpipe's do not see each other's entries, but
the experiments both produce are the same refs.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ... import scm
from ...errors import ExperimentError, LlmpipeError
from ...fsutil import atomic_write_text, locked
from ...run.repolock import repo_lock
from ..audit import Outcome, Targets, audited
from .refs import check_name, experiments, random_name
from .save import baseline_of, commit_workspace, save_locked

if TYPE_CHECKING:
    from ...project import Project

QUEUE_REFS = "refs/llmpipe/exp-queue"


@dataclass(frozen=True)
class QueuedExp:
    id: str
    name: str
    baseline: str
    snapshot: str
    overrides: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    queued_at: float = 0.0


@dataclass(frozen=True)
class QueueRun:
    """One queued experiment's run: the commit saved, or why it failed."""

    entry: QueuedExp
    commit: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class QueueResult:
    runs: tuple[QueueRun, ...] = field(default=())

    @property
    def failed(self) -> tuple[QueueRun, ...]:
        return tuple(run for run in self.runs if run.error)


def _queue_dir(project: Project) -> str:
    return os.path.join(project.tmp_dir, "exp-queue")


def describe_queued(entry: QueuedExp) -> tuple[Targets, Outcome]:
    return [{"path": f"{QUEUE_REFS}/{entry.id}", "hash": entry.snapshot,
             "experiment": entry.name}], Outcome()  # fmt: skip


@audited("exp run --queue", describe=describe_queued)
def enqueue(
    project: Project,
    overrides: Sequence[str] = (),
    name: str | None = None,
    targets: Sequence[str] = (),
) -> QueuedExp:
    """Queue an experiment of the workspace as it is now, with `overrides`, to run later."""
    if scm.prefix_in_work_tree(project.root):
        raise ExperimentError(
            "queued experiments need the project at the top of its git work tree;"
            " run the experiment now (without --queue)"
        )
    from .save import _extra_paths  # the files an experiment commit holds

    with repo_lock(project.tmp_dir):
        baseline = baseline_of(project)
        taken = {e.name for e in experiments(project.root) if e.baseline == baseline}
        taken.update(e.name for e in queued(project))
        name = check_name(name) if name else random_name(taken)
        paths = _extra_paths(project, project.stages())
        snapshot = commit_workspace(project, baseline, f"llmpipe: queued experiment {name}", paths)
        entry = QueuedExp(uuid.uuid4().hex[:12], name, baseline, snapshot, tuple(overrides),
                          tuple(targets), time.time())  # fmt: skip
        scm.run_git(project.root, "update-ref", f"{QUEUE_REFS}/{entry.id}", snapshot)
        os.makedirs(_queue_dir(project), exist_ok=True)
        path = os.path.join(_queue_dir(project), f"{entry.id}.json")
        atomic_write_text(path, json.dumps(asdict(entry)))
    return entry


def queued(project: Project) -> list[QueuedExp]:
    """The queued experiments, oldest first."""
    folder = _queue_dir(project)
    entries = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                data = json.load(handle)
            data["overrides"], data["targets"] = tuple(data["overrides"]), tuple(data["targets"])
            entries.append(QueuedExp(**data))
        except (OSError, ValueError, TypeError) as exc:
            raise ExperimentError(f"queued experiment '{name}' cannot be read: {exc}") from None
    return sorted(entries, key=lambda entry: entry.queued_at)


def describe_queue_run(result: QueueResult) -> tuple[Targets, Outcome]:
    targets: Targets = [
        {"path": run.entry.name, "hash": run.commit, "experiment": run.entry.name}
        for run in result.runs
    ]
    if result.failed:
        return targets, Outcome("failed", 1, result.failed[0].error)
    return targets, Outcome()


@audited("exp run --run-all", describe=describe_queue_run)
def run_queued(project: Project, jobs: int = 1) -> QueueResult:
    """Run every queued experiment, `jobs` at once; each leaves the queue when it ran."""
    entries = queued(project)
    if jobs <= 1 or len(entries) <= 1:
        runs = [_run_entry(project.root, entry) for entry in entries]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(_run_entry, [project.root] * len(entries), entries))
    return QueueResult(tuple(runs))


def _run_entry(root: str, entry: QueuedExp) -> QueueRun:
    """Run one entry in a copy of the project made from its snapshot; never raises."""
    from ...hydra.workspace import remove_workspace
    from ...project import Project

    with Project(root) as project:
        dest = os.path.join(project.tmp_dir, "exp-runs", entry.id)
        try:
            with locked(dest + ".lock"):  # tells `exp clean` that this copy is in use
                commit = _run_in_copy(project, entry, dest)
        except LlmpipeError as exc:
            return QueueRun(entry, error=f"experiment '{entry.name}': {exc}")
        finally:
            remove_workspace(dest)
            with contextlib.suppress(FileNotFoundError):
                os.remove(dest + ".lock")
        os.remove(os.path.join(_queue_dir(project), f"{entry.id}.json"))
        scm.run_git(root, "update-ref", "-d", f"{QUEUE_REFS}/{entry.id}")
        return QueueRun(entry, commit=commit)


def _run_in_copy(project: Project, entry: QueuedExp, dest: str) -> str:
    from ...config import set_value
    from ...lineage.store import LineageStore
    from ...project import Project
    from ..checkout import checkout_locked
    from ..repro import ReproRequest, reproduce
    from ..sweep_job import TRACKED_DATA_LINKS

    _materialize(project, entry.snapshot, dest)
    # As a sweep job's copy: the user's cache (.llmpipe/config wins over .dvc/config), git
    # directory and lineage store; its own state DB and lock.
    set_value(os.path.join(dest, ".llmpipe", "config"), "cache", "dir", project.cache_dir)
    scm.link_git_dir(project.root, dest)
    with Project(dest) as copy:
        copy.use_lineage(LineageStore(os.path.join(project.llmpipe_dir, "lineage")))
        request = ReproRequest(targets=entry.targets, overrides=entry.overrides,
                               overwrite_params=True)  # fmt: skip
        with repo_lock(copy.tmp_dir):
            sources = [s.address for s in copy.stages() if s.is_data_source]
            if sources:
                checkout_locked(copy, sources, link_types=TRACKED_DATA_LINKS)
        result = reproduce(copy, request, audit=False)
        if result.failed:
            failed = result.failed[0]
            raise ExperimentError(f"stage '{failed.stage.address}' failed: {failed.error}")
        with repo_lock(copy.tmp_dir):
            saved = save_locked(copy, entry.name, start=(entry.baseline, entry.snapshot))
    return saved.exp.commit


def _materialize(project: Project, snapshot: str, dest: str) -> None:
    """The files of commit `snapshot` in `dest`, through a temporary index."""
    import tempfile

    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="exp-", dir=project.tmp_dir) as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        scm.run_git(project.root, "read-tree", snapshot, env=env)
        prefix = os.path.join(os.path.abspath(dest), "")
        scm.run_git(project.root, "checkout-index", "-a", "-f", f"--prefix={prefix}", env=env)
    for extra in (os.path.join(".dvc", "config.local"),):
        source = os.path.join(project.root, extra)
        if os.path.exists(source):
            import shutil

            shutil.copy2(source, os.path.join(dest, extra))


@dataclass(frozen=True)
class Cleaned:
    """What `exp clean` removed: copies left by interrupted runs, queue refs with no entry."""

    copies: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()


def describe_cleaned(cleaned: Cleaned) -> tuple[Targets, Outcome]:
    return [{"path": p} for p in (*cleaned.copies, *cleaned.refs)], Outcome()


@audited("exp clean", describe=describe_cleaned)
def clean(project: Project) -> Cleaned:
    """Remove the temporary files of experiment runs that ended without cleaning up.

    The `--run-all` copies whose run was killed (a running copy holds its own lock
    and is kept) and the snapshot refs of queue entries that no longer exist. Queued
    experiments stay queued.
    """
    with repo_lock(project.tmp_dir):
        copies = [_clean_copy(project, e.path) for e in _scan(project.tmp_dir, "exp-runs")]
        entries = {entry.id for entry in queued(project)}
        orphans = [ref for ref, _ in scm.full_refs(project.root, QUEUE_REFS)
                   if ref.rsplit("/", 1)[1] not in entries]  # fmt: skip
        for ref in orphans:
            scm.run_git(project.root, "update-ref", "-d", ref)
    return Cleaned(tuple(c for c in copies if c), tuple(orphans))


def describe_unqueued(removed: list[QueuedExp]) -> tuple[Targets, Outcome]:
    return [{"path": f"{QUEUE_REFS}/{e.id}", "hash": e.snapshot, "experiment": e.name}
            for e in removed], Outcome()  # fmt: skip


@audited("exp remove --queue", describe=describe_unqueued)
def clear_queue(project: Project) -> list[QueuedExp]:
    """Remove every queued experiment (dvc's `exp remove --queue`), oldest first; one a
    `--run-all` is running now is left to finish (its copy is locked)."""
    removed = []
    with repo_lock(project.tmp_dir):
        for entry in queued(project):
            copy = os.path.join(project.tmp_dir, "exp-runs", entry.id)
            try:
                with locked(copy + ".lock", wait=False):
                    os.remove(os.path.join(_queue_dir(project), f"{entry.id}.json"))
                    scm.run_git(project.root, "update-ref", "-d", f"{QUEUE_REFS}/{entry.id}")
                os.remove(copy + ".lock")
            except BlockingIOError:
                continue  # running: `--run-all` removes it when it is saved
            removed.append(entry)
    return removed


def _scan(tmp_dir: str, folder: str) -> list[os.DirEntry[str]]:
    path = os.path.join(tmp_dir, folder)
    if not os.path.isdir(path):
        return []
    with os.scandir(path) as entries:
        return sorted((e for e in entries if e.is_dir(follow_symlinks=False)), key=lambda e: e.name)


def _clean_copy(project: Project, dest: str) -> str | None:
    """Remove the copy at `dest` unless a `--run-all` is running in it; its relpath if removed."""
    from ...hydra.workspace import remove_workspace

    try:
        with locked(dest + ".lock", wait=False):
            remove_workspace(dest)
            os.remove(dest + ".lock")
    except BlockingIOError:
        return None
    return os.path.relpath(dest, project.root).replace(os.sep, "/")
