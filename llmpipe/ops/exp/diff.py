"""`exp diff`: params and metrics of two revisions or experiments, as dvc compares them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...compare.collect import Comparison
from ...compare.diff import Change, diff_values
from ...compare.revisions import WORKSPACE, Revision
from .refs import commit_of
from .save import baseline_of

if TYPE_CHECKING:
    from ...compare.collect import RevisionValues
    from ...compare.formats import Fetch
    from ...project import Project


@dataclass(frozen=True)
class ExpDiff:
    metrics: list[Change]
    params: list[Change]
    problems: list[str]  # what could not be read, at either side


def diff(
    project: Project,
    a_rev: str | None = None,
    b_rev: str | None = None,
    include_all: bool = False,
    param_deps: bool = False,
    fetch: Fetch | None = None,
) -> ExpDiff:
    """Changes from `a_rev` (default HEAD) to `b_rev` (default the workspace).

    Either may be a git revision or an experiment name. RevisionError for neither.
    """
    head = baseline_of(project)
    old = Revision(a_rev or "HEAD", commit_of(project.root, a_rev, head) if a_rev else head)
    new = Revision(b_rev, commit_of(project.root, b_rev, head)) if b_rev else Revision(
        WORKSPACE, None)  # fmt: skip
    with Comparison(project.root, project.odb, fetch) as comparison:
        metrics = [comparison.metrics(rev) for rev in (old, new)]
        params = [comparison.params(rev, deps_only=param_deps) for rev in (old, new)]
    return ExpDiff(
        metrics=_changes(metrics, include_all, keep_lists=False),
        params=_changes(params, include_all, keep_lists=True),
        problems=[p for values in (*metrics, *params) for p in values.problems],
    )


def _changes(pair: list[RevisionValues], include_all: bool, keep_lists: bool) -> list[Change]:
    return diff_values(pair[0].flat(keep_lists), pair[1].flat(keep_lists), include_all)
