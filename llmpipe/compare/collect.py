"""Metrics and params of each revision, read from git objects and the cache.

`Comparison` holds one git object reader for a whole command; every revision's
pipeline is parsed once. Problems are values: a revision that cannot be read,
or one file that is missing or malformed, is reported and the rest are shown.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import FileProblem
from ..metrics import as_mapping, flatten, parse_data, prune_lists
from ..revfs import GitObjects, RevTree, Tree, TreeMemo, WorkTree, git_location
from .formats import read_tracked
from .pipeline import Pipeline, TrackedFile, load_pipeline
from .revisions import Revision, RevisionChoice, select_revisions

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB


@dataclass
class FileValues:
    """The parsed content of one file at one revision, or why there is none."""

    data: dict[str, Any] | None = None
    error: str | None = None

    def flat(self, keep_lists: bool) -> dict[str, Any]:
        return flatten(self.data, keep_lists) if self.data else {}


@dataclass
class RevisionValues:
    """Every metrics (or params) file of one revision; `error` when none could be read."""

    revision: Revision
    files: dict[str, FileValues] = field(default_factory=dict)
    error: str | None = None

    def flat(self, keep_lists: bool = False) -> dict[str, dict[str, Any]]:
        """{path: {flattened key: value}}; files with errors count as empty."""
        return {path: values.flat(keep_lists) for path, values in self.files.items()}


class Comparison:
    """Reads revisions of the project at `root` (a git work tree or a folder inside one).

    Use as a context manager. `odb` (optional) serves cached outputs.
    Raises RevisionError outside a git repository.
    """

    def __init__(self, root: str, odb: ObjectDB | None = None) -> None:
        self.root = os.path.abspath(root)
        self.odb = odb
        self.git_root, self.prefix = git_location(self.root)
        self.objects = GitObjects(self.git_root)
        self._memo = TreeMemo()  # branches mostly share their dvc.yaml: parse it once
        self._pipelines: dict[str | None, Pipeline] = {}
        self._trees: dict[str | None, Tree] = {}

    def __enter__(self) -> Comparison:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.objects.close()

    def select(self, choice: RevisionChoice) -> list[Revision]:
        return select_revisions(self.git_root, self.objects, choice)

    def tree(self, revision: Revision) -> Tree:
        if revision.commit not in self._trees:
            self._trees[revision.commit] = (
                WorkTree(self.root)
                if revision.commit is None
                else RevTree(self.objects, revision.commit, self.prefix)
            )
        return self._trees[revision.commit]

    def pipeline(self, revision: Revision) -> Pipeline:
        if revision.commit not in self._pipelines:
            self._pipelines[revision.commit] = load_pipeline(self.tree(revision), self._memo)
        return self._pipelines[revision.commit]

    def metrics(self, revision: Revision, targets: Sequence[str] = ()) -> RevisionValues:
        """Every metrics file of `revision` (or just `targets`), lists pruned."""
        pipeline = self.pipeline(revision)
        problem = _pipeline_problem(pipeline, revision)
        if problem and not targets:
            return RevisionValues(revision, error=problem)
        declared = {f.path: f for f in pipeline.metrics}
        files = [declared.get(t, TrackedFile(t)) for t in targets] or list(declared.values())
        values = RevisionValues(revision)
        for tracked in files:
            values.files[tracked.path] = self._read(revision, tracked, metrics=True)
        return values

    def params(
        self, revision: Revision, targets: Sequence[str] = (), deps_only: bool = False
    ) -> RevisionValues:
        """Every params file of `revision` (or `targets`); `deps_only` keeps tracked keys."""
        pipeline = self.pipeline(revision)
        problem = _pipeline_problem(pipeline, revision)
        if problem and not targets:
            return RevisionValues(revision, error=problem)
        values = RevisionValues(revision)
        for path in targets or pipeline.params:
            found = self._read(revision, TrackedFile(path), metrics=False)
            if deps_only and found.data is not None and path in pipeline.tracked_params:
                found.data = _only_keys(found.data, pipeline.tracked_params[path])
            values.files[path] = found
        return values

    def _read(self, revision: Revision, tracked: TrackedFile, metrics: bool) -> FileValues:
        where = f"'{tracked.path}' at {revision.name}"
        try:
            content = read_tracked(self.tree(revision), tracked, self.odb, revision.name)
            data = as_mapping(parse_data(content, tracked.path, revision.name), where)
        except FileProblem as exc:
            return FileValues(error=str(exc))
        return FileValues(data=prune_lists(data) if metrics else dict(data))


def _pipeline_problem(pipeline: Pipeline, revision: Revision) -> str | None:
    if pipeline.error:
        return f"{revision.name}: {pipeline.error}"
    if not pipeline.dvcyamls:
        return f"{revision.name}: no dvc.yaml at this revision"
    return None


def _only_keys(data: dict[str, Any], keys: set[str] | None) -> dict[str, Any]:
    """The nested subset of `data` holding the dotted `keys` (None keeps everything)."""
    if keys is None:
        return data
    flat = flatten(data, keep_lists=True)
    kept = {
        k: v for k, v in flat.items() if any(k == key or k.startswith(key + ".") for key in keys)
    }
    return _unflatten(kept)


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested
