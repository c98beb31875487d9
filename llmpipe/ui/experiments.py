"""The experiments table: workspace, branches, tags, recent commits and sweep jobs.

Git rows are what `metrics show -A --params` reads (`compare.Comparison`): every
metrics file and every params file of the revision, flattened to `file:key`.
Sweep jobs are what `sweep show` prints (`hydra.results`): each job's metrics,
with its params taken from the lineage records of its stage runs (the values the
stages tracked) and its overrides on top.

A commit never changes, so its values are read once per server (`ExperimentReader`
keeps them by commit); the workspace is read on every request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import LlmpipeError

if TYPE_CHECKING:
    from ..compare.collect import Comparison
    from ..compare.revisions import Revision
    from ..hydra.results import JobResult, SweepRecord
    from ..lineage.record import RunRecord
    from ..project import Project

Values = dict[str, Any]  # "file:key" -> value


@dataclass(frozen=True)
class Experiment:
    """One row. `id` is stable across requests: `workspace`, `branch:NAME`, `tag:NAME`,
    `commit:SHA` or `job:SWEEP:N`."""

    id: str
    kind: str  # workspace, branch, tag, commit, job
    name: str
    commit: str | None = None
    time: str = ""  # ISO 8601, UTC
    message: str = ""
    params: Values = field(default_factory=dict)
    metrics: Values = field(default_factory=dict)
    status: str = ""  # a job's status
    error: str | None = None
    overrides: tuple[str, ...] = ()

    def nested(self, kind: str) -> dict[str, dict[str, Any]]:
        """`params` or `metrics` as {file: {key: value}}, as `compare.diff` takes them."""
        found: dict[str, dict[str, Any]] = {}
        for name, value in getattr(self, kind).items():
            path, _, key = name.partition(":")
            found.setdefault(path, {})[key] = value
        return found


@dataclass(frozen=True)
class Column:
    key: str  # "file:key"
    kind: str  # metric or param
    label: str  # the key alone, unless another file has it too
    varies: bool  # differs between rows (constant columns start hidden)


@dataclass
class ExperimentTable:
    rows: list[Experiment] = field(default_factory=list)
    metrics: list[Column] = field(default_factory=list)
    params: list[Column] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def find(self, ids: Iterable[str]) -> list[Experiment]:
        """The rows of `ids`, in that order; TargetError naming an unknown one."""
        from ..errors import TargetError

        by_id = {row.id: row for row in self.rows}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise TargetError(f"no experiment '{missing[0]}' (it may have been deleted)")
        return [by_id[i] for i in ids]


class _CommitValues(NamedTuple):
    metrics: Values
    params: Values
    problems: list[str]
    time: str  # committer time, ISO 8601 UTC
    message: str  # the subject line


class ExperimentReader:
    """Builds the table; remembers each commit's values and each sweep record."""

    def __init__(self, max_commits: int = 50) -> None:
        self.max_commits = max_commits
        self._commits: dict[str, _CommitValues] = {}
        self._sweeps: dict[str, tuple[float, SweepRecord]] = {}
        self._mutex = threading.Lock()

    def table(self, project: Project, records: Sequence[RunRecord]) -> ExperimentTable:
        table = ExperimentTable()
        table.rows.extend(self._git_rows(project, table.warnings))
        table.rows.extend(self._job_rows(project, records, table.warnings))
        table.metrics = _columns(table.rows, "metrics")
        table.params = _columns(table.rows, "params")
        return table

    # git revisions

    def _git_rows(self, project: Project, warnings: list[str]) -> list[Experiment]:
        from ..compare.collect import Comparison

        try:
            comparison = Comparison(project.root, project.odb)
        except LlmpipeError as exc:
            warnings.append(f"no git history to show: {exc}")
            return []
        with comparison:
            return [
                self._row(comparison, kind, revision, warnings)
                for kind, revision in self._revisions(comparison.git_root)
            ]

    def _revisions(self, git_root: str) -> list[tuple[str, Revision]]:
        """The workspace, every branch and tag, and the latest commits no name points at."""
        from .. import scm
        from ..compare.revisions import WORKSPACE, Revision

        found: list[tuple[str, Revision]] = [("workspace", Revision(WORKSPACE, None))]
        for kind, namespace in (("branch", "refs/heads"), ("tag", "refs/tags")):
            found += [(kind, Revision(n, sha)) for n, sha in scm.list_refs(git_root, namespace)]
        named = {revision.commit for _, revision in found}
        commits = [c for c in scm.all_commits(git_root) if c not in named]
        found += [("commit", Revision(sha[:7], sha)) for sha in commits[: self.max_commits]]
        return found

    def _row(
        self, comparison: Comparison, kind: str, revision: Revision, warnings: list[str]
    ) -> Experiment:
        if revision.commit is None:
            metrics, params, problems = _read_values(comparison, revision)
            warnings.extend(problems)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            return Experiment("workspace", "workspace", "workspace", None, now, "", params, metrics)
        found = self._commit(comparison, revision)
        warnings.extend(found.problems)
        unreadable = found.problems and not found.metrics and not found.params
        return Experiment(
            f"{kind}:{revision.name if kind != 'commit' else revision.commit}",
            kind,
            revision.name,
            revision.commit,
            found.time,
            found.message,
            found.params,
            found.metrics,
            error=found.problems[0] if unreadable else None,
        )

    def _commit(self, comparison: Comparison, revision: Revision) -> _CommitValues:
        """What `revision`'s commit holds, read from git on first use only."""
        commit = str(revision.commit)
        with self._mutex:
            cached = self._commits.get(commit)
        if cached is None:
            metrics, params, problems = _read_values(comparison, revision)
            cached = _CommitValues(metrics, params, problems, *_commit_facts(comparison, commit))
            with self._mutex:
                self._commits[commit] = cached
        return cached

    # sweep jobs

    def _job_rows(
        self, project: Project, records: Sequence[RunRecord], warnings: list[str]
    ) -> list[Experiment]:
        from ..hydra.results import list_sweeps

        by_overrides = _records_by_overrides(records)
        rows = []
        for sweep_id in list_sweeps(project.llmpipe_dir):
            try:
                record = self._sweep(project.llmpipe_dir, sweep_id)
            except (LlmpipeError, OSError, ValueError) as exc:
                warnings.append(f"sweep {sweep_id}: cannot be read ({exc})")
                continue
            rows.extend(_job_row(record, job, by_overrides) for job in record.jobs)
        return rows

    def _sweep(self, llmpipe_dir: str, sweep_id: str) -> SweepRecord:
        """The record of `sweep_id`, read again only when its file changed."""
        from ..hydra.results import load_record, sweeps_root

        stamp = os.stat(os.path.join(sweeps_root(llmpipe_dir), sweep_id, "sweep.json")).st_mtime
        with self._mutex:
            cached = self._sweeps.get(sweep_id)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_record(llmpipe_dir, sweep_id))
            with self._mutex:
                self._sweeps[sweep_id] = cached
        return cached[1]


def _read_values(comparison: Comparison, revision: Revision) -> tuple[Values, Values, list[str]]:
    """Flattened metrics and params of `revision`, and the problems met reading them."""
    metrics = comparison.metrics(revision)
    params = comparison.params(revision)
    problems = [p for p in (metrics.error, params.error) if p]
    for values in (*metrics.files.values(), *params.files.values()):
        if values.error:
            problems.append(values.error)
    return _flat(metrics.flat()), _flat(params.flat(keep_lists=True)), problems


def _flat(nested: dict[str, dict[str, Any]]) -> Values:
    return {f"{path}:{key}": v for path, values in nested.items() for key, v in values.items()}


def _commit_facts(comparison: Comparison, commit: str) -> tuple[str, str]:
    """The committer time (ISO, UTC) and the subject line of `commit`."""
    found = comparison.objects.read(commit)
    if found is None or found[1] != "commit":
        return "", ""
    header, _, message = found[2].decode("utf-8", "replace").partition("\n\n")
    time = ""
    for line in header.splitlines():
        if line.startswith("committer "):
            seconds = line.rsplit(" ", 2)[-2]
            if seconds.isdigit():
                moment = datetime.fromtimestamp(int(seconds), tz=timezone.utc)
                time = moment.isoformat(timespec="seconds")
    return time, message.strip().splitlines()[0] if message.strip() else ""


def _records_by_overrides(records: Sequence[RunRecord]) -> dict[tuple[str, ...], list[RunRecord]]:
    found: dict[tuple[str, ...], list[RunRecord]] = {}
    for record in records:
        if record.overrides:
            found.setdefault(tuple(record.overrides), []).append(record)
    return found


def _job_row(
    sweep: SweepRecord, job: JobResult, by_overrides: dict[tuple[str, ...], list[RunRecord]]
) -> Experiment:
    runs = job_runs(by_overrides.get(tuple(job.overrides), []), job.overrides, sweep.created)
    params: Values = {}
    for run in reversed(runs):  # oldest first: the latest value of a key wins
        for path, values in run.params.items():
            params.update(_flat({path: _flatten(values)}))
    params.update(override_values(job.overrides))
    short = sweep.id.rsplit("-", 1)[-1]
    return Experiment(
        id=f"job:{sweep.id}:{job.job}",
        kind="job",
        name=f"{short}#{job.job}",
        time=sweep.created,
        message=" ".join(job.overrides),
        params=params,
        metrics=dict(job.metrics),
        status=job.status,
        error=(job.error or "").splitlines()[0] if job.error else None,
        overrides=tuple(job.overrides),
    )


def job_runs(
    records: Iterable[RunRecord], overrides: Sequence[str], created: str
) -> list[RunRecord]:
    """The stage runs of a sweep job: its overrides, started once its sweep was created."""
    since = _parse_time(created)
    return [
        r
        for r in records
        if tuple(r.overrides) == tuple(overrides)
        and (since is None or r.started_at >= since - timedelta(seconds=5))
    ]


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _flatten(values: Any) -> dict[str, Any]:
    from ..metrics import flatten

    return flatten(values, keep_lists=True) if isinstance(values, dict) else {}


def override_values(overrides: Sequence[str]) -> Values:
    """`file:key` -> value of each `[file:]key=value` override (Hydra's own keys left out)."""
    from ..hydra.overrides import split_path_overrides
    from ..yamlio import load_yaml

    found: Values = {}
    for path, items in split_path_overrides(overrides).items():
        for item in items:
            key, sign, text = item.partition("=")
            key = key.lstrip("+~")
            if not sign or key.startswith("hydra") or "/" in key:
                continue
            try:
                value = load_yaml(text, "override")
            except LlmpipeError:
                value = text
            found[f"{path}:{key}"] = value
    return found


COLUMN_KINDS = {"metrics": "metric", "params": "param"}


def _columns(rows: Sequence[Experiment], kind: str) -> list[Column]:
    names = sorted({name for row in rows for name in getattr(row, kind)})
    keys = [name.partition(":")[2] for name in names]
    columns = []
    for name, key in zip(names, keys, strict=True):
        values = {repr(getattr(row, kind).get(name)) for row in rows}
        label = key if keys.count(key) == 1 else name
        columns.append(Column(name, COLUMN_KINDS[kind], label, len(values) > 1))
    return columns
