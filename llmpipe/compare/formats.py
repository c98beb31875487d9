"""Find a metrics, params or plots file's bytes at a revision (parsing: `llmpipe.metrics`).

A file is looked for in git (or the working directory), else in the cache
through what the revision records: an output that is the file, or a directory
output holding it (its `.dir` manifest names the file's object), as dvc reads
it. Every failure is a `FileProblem` value so one bad file never hides the
others: `FileAbsent` when the revision has no such file, `ObjectsMissing`
(with the objects wanted) when it records one the cache lacks.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import CacheError, FileAbsent, LlmpipeError, ObjectsMissing
from ..revfs import RevTree

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..outputs import UsedOutput
    from ..revfs import Tree
    from .pipeline import Pipeline

# Brings objects (oids) of an output into the cache; raises LlmpipeError when it cannot.
Fetch = Callable[["UsedOutput", list[str]], None]


class RevisionFiles:
    """The files of one revision: git's (or the workspace's) and its recorded outputs'."""

    def __init__(
        self, tree: Tree, pipeline: Pipeline, odb: ObjectDB | None, label: str, fetch: Fetch | None
    ) -> None:
        self.tree, self.pipeline, self.odb, self.label = tree, pipeline, odb, label
        self.fetch = fetch

    def read(self, path: str) -> bytes:
        """The bytes of the file at `path`; FileAbsent or ObjectsMissing when there are none."""
        content = self.tree.read_bytes(path)
        if content is not None:
            return content
        found = self._recorded(path)
        if found is None:
            raise FileAbsent(self._absent(path))
        out, relpath = found
        oid = self._entry_oid(out, relpath) if relpath else out.info.value
        if oid is None:
            raise FileAbsent(f"'{path}' does not exist at {self.label}")
        return self._object(out, oid, path)

    def exists(self, path: str) -> bool:
        """True when git (or the workspace) has `path`, or an output records it."""
        return self.tree.exists(path) or self._recorded(path) is not None

    def files_under(self, path: str) -> list[str]:
        """`path` itself, or every file below it when it is a folder (in git or an output)."""
        inside = set(_listed(self.tree, path))
        for out in self.pipeline.outputs:
            if out.path == path or out.path.startswith(path + "/"):
                inside.update(self._output_files(out))
            elif path.startswith(out.path + "/") and out.info.isdir:  # a folder in an output
                inside.update(f for f in self._output_files(out) if f.startswith(path + "/"))
        return sorted(inside) or [path]

    def _recorded(self, path: str) -> tuple[UsedOutput, str] | None:
        """The output holding `path`, and `path` relative to it ('' for the output itself)."""
        for out in self.pipeline.outputs:
            if out.path == path and not out.info.isdir:
                return out, ""
            if path.startswith(out.path + "/") and out.info.isdir:
                return out, path[len(out.path) + 1 :]
        return None

    def _absent(self, path: str) -> str:
        declared = path in self.pipeline.cached_outs or any(
            path.startswith(out + "/") for out in self.pipeline.cached_outs
        )
        if declared and self.tree.commit is not None:
            return (
                f"'{path}' at {self.label} is a cached output with no dvc.lock entry;"
                " run the pipeline and commit dvc.lock"
            )
        return f"'{path}' does not exist at {self.label}"

    def _entry_oid(self, out: UsedOutput, relpath: str) -> str | None:
        return dict(self._manifest(out)).get(relpath)

    def _output_files(self, out: UsedOutput) -> list[str]:
        if not out.info.isdir:
            return [out.path]
        try:
            return [posixpath.join(out.path, relpath) for relpath, _ in self._manifest(out)]
        except ObjectsMissing:
            return []  # reading the folder's files will say so, file by file

    def _manifest(self, out: UsedOutput) -> list[tuple[str, str]]:
        self._object(out, out.info.value, out.path)  # fetched when missing, else raises
        assert self.odb is not None
        try:
            return self.odb.read_manifest(out.info.value)
        except CacheError as exc:
            raise ObjectsMissing(
                f"'{out.path}' at {self.label}: {exc}", (out.info.value,)
            ) from None

    def _object(self, out: UsedOutput, oid: str, path: str) -> bytes:
        if self.odb is None:
            raise ObjectsMissing(f"'{path}' at {self.label} is in the cache only", (oid,))
        why = ""
        if not self.odb.exists(oid) and self.fetch is not None:
            try:
                self.fetch(out, [oid])
            except LlmpipeError as exc:
                why = f"; fetching it failed: {exc}"
        try:
            with open(self.odb.oid_path(oid), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            hint = why or "; run 'llmpipe fetch' (or 'dvc fetch') to bring it from the remote"
            raise ObjectsMissing(
                f"'{path}' at {self.label} is not in the cache ({out.info.name} {oid}){hint}",
                (oid,),
            ) from None


def _listed(tree: Tree, path: str) -> list[str]:
    """The files of git (or the working directory) at or below `path`."""
    if isinstance(tree, RevTree):
        return [p for p in tree.paths() if p == path or p.startswith(path + "/")]
    full = os.path.join(tree.root, path)
    if os.path.isfile(full):
        return [path]
    return [
        posixpath.join(path, os.path.relpath(os.path.join(d, f), full).replace(os.sep, "/"))
        for d, _, files in os.walk(full)
        for f in files
    ]
