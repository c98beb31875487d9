"""The plots page: every plot of the pipeline, one series per selected row, overlaid.

Git rows are revisions, read by `compare.plots.collect_plots` as `llmpipe plots`
reads them. A sweep job is drawn from the outputs its stage runs recorded in the
lineage store: the plots files its runs wrote are read from the cache by the hash
each record holds (a job's workspace is gone once it ends), and the pipeline's
plot definitions are the workspace's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..compare.collect import Comparison
from ..compare.pipeline import Pipeline
from ..compare.revisions import WORKSPACE, Revision
from ..lineage.query import normalize_path
from ..outputs import UsedOutput
from ..revfs import WorkTree
from ..stage import HashInfo

if TYPE_CHECKING:
    from ..compare.plots import Plot
    from ..lineage.record import RunRecord
    from ..project import Project
    from .experiments import Experiment

JOB_PREFIX = "job:"


def figures(
    project: Project, rows: Sequence[Experiment], records: Sequence[RunRecord]
) -> tuple[list[Plot], list[str]]:
    """The plots of `rows` (revisions and sweep jobs) and the problems met."""
    from ..compare.plots import collect_plots

    revisions = []
    jobs: dict[str, dict[str, HashInfo]] = {}
    for row in rows:
        if row.kind == "job":
            name = f"{JOB_PREFIX}{row.name}"
            jobs[name] = _job_outputs(row, records)
            revisions.append(Revision(row.name, name))
        else:
            revisions.append(Revision(row.name, row.commit))
    with _JobComparison(project, jobs) as comparison:
        result = collect_plots(comparison, revisions)
    return result.plots, result.problems


def _job_outputs(row: Experiment, records: Sequence[RunRecord]) -> dict[str, HashInfo]:
    """Each output path the job's runs recorded, with its latest hash."""
    from .experiments import job_runs

    outputs: dict[str, HashInfo] = {}
    for record in job_runs(records, row.overrides, row.time):  # newest first
        if not record.succeeded:
            continue
        for out in record.outs:
            if out.hash:
                info = HashInfo("md5", out.hash, out.size, out.nfiles)
                outputs.setdefault(normalize_path(out.path), info)
    return outputs


class _JobComparison(Comparison):
    """A `Comparison` in which a revision whose commit is `job:NAME` is that sweep job:
    the workspace's pipeline, its plots files read from the cache at the job's hashes."""

    def __init__(self, project: Project, jobs: dict[str, dict[str, HashInfo]]) -> None:
        super().__init__(project.root, project.odb)
        self.jobs = jobs

    def tree(self, revision: Revision):  # noqa: ANN201 - a revfs tree
        if revision.commit in self.jobs:
            return _JobTree(self.root, self.jobs[revision.commit])
        return super().tree(revision)

    def pipeline(self, revision: Revision) -> Pipeline:
        outputs = self.jobs.get(revision.commit or "")
        if outputs is None:
            return super().pipeline(revision)
        workspace = super().pipeline(Revision(WORKSPACE, None))
        # The job's outputs stand in for the workspace's: its files are read from the cache.
        job = tuple(UsedOutput(path, info) for path, info in outputs.items())
        kept = tuple(out for out in workspace.outputs if out.path not in outputs)
        return dataclasses.replace(workspace, outputs=job + kept)


class _JobTree(WorkTree):
    """The workspace, except that what the job wrote is not there (read from the cache)."""

    def __init__(self, root: str, outputs: dict[str, HashInfo]) -> None:
        super().__init__(root)
        self.outputs = outputs

    @property
    def commit(self) -> str:
        return "job"

    def read_bytes(self, relpath: str) -> bytes | None:
        if any(relpath == out or relpath.startswith(out + "/") for out in self.outputs):
            return None  # the job wrote it: read from the cache at the job's hash
        return super().read_bytes(relpath)
