"""Metrics and params of each revision, read from git objects and the cache.

`Comparison` holds one git object reader for a whole command; every revision's
pipeline is parsed once. Problems are values: a revision that cannot be read,
or one file that is missing or malformed, is reported and the rest are shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import FileAbsent, FileProblem, LlmpipeError
from ..metrics import as_mapping, flatten, metric_values, parse_data, parse_tree_file
from ..revfs import GitObjects, RevTree, Tree, TreeMemo, WorkTree, git_location, parse_once
from .formats import Fetch, RevisionFiles
from .pipeline import ParamsFile, Pipeline, load_pipeline, vars_params
from .revisions import Revision, RevisionChoice, select_revisions

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB


@dataclass
class FileValues:
    """The parsed content of one file at one revision, or why there is none."""

    data: Any = None
    error: FileProblem | None = None

    @property
    def unreadable(self) -> bool:
        """True when the revision records the file but it could not be read or parsed."""
        return self.error is not None and not isinstance(self.error, FileAbsent)

    def flat(self, keep_lists: bool) -> dict[str, Any]:
        if isinstance(self.data, Mapping):
            return flatten(self.data, keep_lists)
        return {} if self.data is None else {"": self.data}

    def to_json(self) -> dict[str, Any]:
        """dvc's form: `{"data": …}`, or `{"error": {"type": …, "msg": …}}`."""
        if self.error is None:
            return {"data": self.data}
        return {"error": {"type": type(self.error).__name__, "msg": str(self.error)}}


@dataclass
class RevisionValues:
    """Every metrics (or params) file of one revision; `error` when none could be read."""

    revision: Revision
    files: dict[str, FileValues] = field(default_factory=dict)
    error: str | None = None

    def flat(self, keep_lists: bool = False) -> dict[str, dict[str, Any]]:
        """{path: {flattened key: value}}; files with errors count as empty."""
        return {path: values.flat(keep_lists) for path, values in self.files.items()}

    @property
    def problems(self) -> list[str]:
        """What could not be read: the revision, or each file it records but we could not."""
        if self.error:
            return [self.error]
        return [str(v.error) for v in self.files.values() if v.unreadable]

    def to_json(self) -> dict[str, Any]:
        if self.error:
            return {"error": {"type": "RevisionError", "msg": self.error}}
        return {"data": {path: values.to_json() for path, values in self.files.items()}}


class Comparison:
    """Reads revisions of the project at `root` (a git work tree or a folder inside one).

    Use as a context manager. `odb` (optional) serves cached outputs; `fetch`
    (optional) brings an object the cache lacks from a remote.
    Raises RevisionError outside a git repository.
    """

    def __init__(self, root: str, odb: ObjectDB | None = None, fetch: Fetch | None = None) -> None:
        self.root = os.path.abspath(root)
        self.odb = odb
        self.fetch = fetch
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

    def files(self, revision: Revision) -> RevisionFiles:
        """Reads files of `revision` from git, else from the cache through its lock."""
        pipeline = self.pipeline(revision)
        return RevisionFiles(self.tree(revision), pipeline, self.odb, revision.label, self.fetch)

    def metrics(self, revision: Revision, targets: Sequence[str] = ()) -> RevisionValues:
        """Every metrics file of `revision` (or just `targets`), as dvc reads them."""
        pipeline = self.pipeline(revision)
        if pipeline.error and not targets:
            return RevisionValues(revision, error=f"{revision.label}: {pipeline.error}")
        files = self.files(revision)
        declared = targets or pipeline.metrics
        values = RevisionValues(revision)
        for path in dict.fromkeys(p for d in declared for p in files.files_under(d)):
            values.files[path] = self._read(files, path, None, metrics=True)
        return values

    def params(
        self, revision: Revision, targets: Sequence[str] = (), deps_only: bool = False
    ) -> RevisionValues:
        """The params files of `revision` (or `targets`) with the keys dvc shows of each.

        `deps_only` keeps the files and keys stages depend on.
        """
        pipeline = self.pipeline(revision)
        if pipeline.error and not targets:
            return RevisionValues(revision, error=f"{revision.label}: {pipeline.error}")
        files = self.files(revision)
        chosen = [ParamsFile(t) for t in targets] or list(
            pipeline.deps_params if deps_only else pipeline.params
        )
        values = RevisionValues(revision)
        for params_file in chosen:
            values.files[params_file.path] = self._read(
                files, params_file.path, params_file.keys, metrics=False
            )
        if not targets:
            for path, used in vars_params(pipeline, set(values.files)).items():
                values.files[path] = FileValues(data=used)
        return values

    def _read(
        self, files: RevisionFiles, path: str, keys: tuple[str, ...] | None, metrics: bool
    ) -> FileValues:
        where = f"'{path}' at {files.label}"
        try:
            data = parse_data(files.read(path), path, files.label) if metrics else _params(
                files, path)  # fmt: skip
            if metrics:
                return FileValues(data=metric_values(as_mapping(data, where)))
            data = as_mapping(data, where)
        except FileProblem as exc:
            return FileValues(error=exc)
        return FileValues(data=only_keys(dict(data), keys))


def _params(files: RevisionFiles, path: str) -> Any:
    """A params file's data: at a commit, parsed once per content with the stage loader's
    reading of it (`metrics.parse_tree_file`; not changed here); else read as metrics are."""
    if files.tree.commit is not None:
        try:
            return parse_once(files.tree, path, parse_tree_file)
        except LlmpipeError:
            pass  # absent from git, or malformed: read (and reported) as before
    return parse_data(files.read(path), path, files.label)


def only_keys(data: dict[str, Any], keys: Sequence[str] | None) -> dict[str, Any]:
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
