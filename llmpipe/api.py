"""Read a project's data, params and metrics from Python, as `dvc.api` does.

    import llmpipe.api

    with llmpipe.api.open("data/train.jsonl", repo="https://github.com/org/registry") as f:
        first = f.readline()
    params = llmpipe.api.params_show(stages="train")
    metrics = llmpipe.api.metrics_show(rev="v1.0")

Every function takes `repo` (default: the project around the current directory; else
a project folder or any URL git can clone) and `rev` (a branch, tag or commit; default:
a folder's working directory, a URL's default branch). Nothing is written to the
workspace: tracked data is read from a cache (this project's, the source folder's) or
streamed through a scratch cache from the source's remote. Errors are `LlmpipeError`s;
a path the project does not have raises `PathMissingError`, also a `FileNotFoundError`.
See docs/api.md.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import IO, Any

__all__ = ["exp_show", "metrics_show", "open", "params_show", "read"]


def open(  # noqa: A001 - the name dvc.api uses
    path: str,
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    mode: str = "r",
    encoding: str | None = None,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """A context manager yielding `path` of project `repo` at `rev`, open for reading.

    `path` is relative to the project root (to the current directory when `repo` is
    None). `remote` names the source's remote to fetch from (default: its default
    remote). `mode` is "r" (text, in `encoding`) or "rb". A file of the working
    directory is read where it is; a tracked file from the cache, or downloaded from
    the remote into a scratch cache removed on exit. Raises ValueError for a writing
    mode, PathMissingError when the project has no such file, IsADirectoryError for a
    directory.
    """
    if any(flag in mode for flag in "wax+"):
        raise ValueError("Only reading `mode` is supported.")
    return _opened(path, repo, rev, remote, mode, encoding)


def read(
    path: str,
    repo: str | None = None,
    rev: str | None = None,
    remote: str | None = None,
    mode: str = "r",
    encoding: str | None = None,
) -> str | bytes:
    """The whole content of `path` (see `open`): text for mode "r", bytes for "rb"."""
    with open(path, repo=repo, rev=rev, remote=remote, mode=mode, encoding=encoding) as handle:
        content: str | bytes = handle.read()
    return content


@contextlib.contextmanager
def _opened(
    path: str, repo: str | None, rev: str | None, remote: str | None, mode: str, enc: str | None
) -> Iterator[IO[Any]]:
    from .external.source import open_source

    url, relpath = _project_path(path, repo)
    with open_source(url, rev) as source:
        if source.in_workspace and source.root and os.path.isfile(_join(source.root, relpath)):
            with builtins.open(_join(source.root, relpath), mode, encoding=enc) as handle:
                yield handle
            return
        with _scratch(source.odb if repo is None else None) as (into, scratch):
            yield from _from_source(source, relpath, path, into, scratch, remote, mode, enc)


def _from_source(source: Any, relpath: str, path: str, into: Any, scratch: str,
                 remote: str | None, mode: str, enc: str | None) -> Iterator[IO[Any]]:  # fmt: skip
    """Yield `relpath` of `source` opened: from git, or its output's object (fetched if need be)."""
    from .external.items import find_item, output_files
    from .external.objects import SourceObjects

    item = find_item(source, relpath)
    if item.out is None:
        content = _git_bytes(source, item.path)
        yield _wrap(content, mode, enc)
        return
    objects = SourceObjects(source, into, scratch, remote)
    files = output_files(item, objects)
    if len(files) != 1 or files[0].relpath:
        raise IsADirectoryError(f"'{path}' is a directory")
    found = objects.path(str(files[0].oid))
    assert found is not None  # output_files made every object available
    with builtins.open(found, mode, encoding=enc) as handle:
        yield handle


def _project_path(path: str, repo: str | None) -> tuple[str, str]:
    """(where the project is, `path` relative to its root)."""
    if repo is not None:
        return repo, path
    from .project import find_root

    root = find_root(".")
    return root, os.path.relpath(os.path.abspath(path), root)


def _join(root: str, relpath: str) -> str:
    return os.path.join(root, *relpath.replace(os.sep, "/").split("/"))


@contextlib.contextmanager
def _scratch(odb: Any) -> Iterator[tuple[Any, str]]:
    """(`odb` itself (a local project's cache) or a scratch cache, a scratch folder);
    both removed on exit."""
    from .cache.odb import ObjectDB

    folder = tempfile.mkdtemp(prefix="llmpipe-api-")
    try:
        yield odb or ObjectDB(os.path.join(folder, "files", "md5")), folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _git_bytes(source: Any, relpath: str) -> bytes:
    content = source.tree.read_bytes(relpath)
    if content is None:
        raise IsADirectoryError(f"'{relpath}' is a directory")
    data: bytes = content
    return data


def _wrap(content: bytes, mode: str, encoding: str | None) -> IO[Any]:
    binary = io.BytesIO(content)
    return binary if "b" in mode else io.TextIOWrapper(binary, encoding=encoding)


# -- params and metrics ----------------------------------------------------------


def params_show(
    *targets: str,
    repo: str | None = None,
    stages: str | Iterable[str] | None = None,
    rev: str | None = None,
    deps: bool = False,
) -> dict[str, Any]:
    """The params of project `repo` at `rev`, merged into one dict as `dvc.api` merges them.

    `targets` are params files to read (default: every file dvc.yaml tracks); `stages`
    keeps the params those stages depend on; `deps` only params any stage depends on.
    A key found in several files is prefixed `file:key`. Raises LlmpipeError when a
    file cannot be read.
    """
    chosen = [stages] if isinstance(stages, str) else list(stages or ())
    with _comparison(repo) as comparison:
        revision = _revision(comparison, rev)
        values = comparison.params(
            revision, _targets(comparison, repo, targets), deps or bool(chosen)
        )
        _raise_problems(values)
        files = values.files
        data = {path: v.data for path, v in files.items() if isinstance(v.data, dict)}
        if chosen:
            data = _for_stages(comparison, revision, chosen, data)
    return _merged(data)


def metrics_show(*targets: str, repo: str | None = None, rev: str | None = None) -> dict[str, Any]:
    """The metrics of project `repo` at `rev`, merged into one dict as `dvc.api` merges them.

    `targets` are metrics files (default: every one dvc.yaml declares). Raises
    LlmpipeError when a file cannot be read.
    """
    with _comparison(repo) as comparison:
        values = comparison.metrics(_revision(comparison, rev), _targets(comparison, repo, targets))
        _raise_problems(values)
        data = {path: v.data for path, v in values.files.items() if isinstance(v.data, dict)}
    return _merged(data)


def exp_show(repo: str | None = None) -> list[dict[str, Any]]:
    """One row per revision: `{"rev": name, "params": {...}, "metrics": {...}}`.

    Until experiments land (issue 16, item 1), the rows are the workspace and every
    branch, the revisions `llmpipe metrics show -A --params` shows; experiments will
    join them then. Flat keys, as in `params_show`/`metrics_show`.
    """
    from .compare.revisions import RevisionChoice

    rows = []
    with _comparison(repo) as comparison:
        for revision in comparison.select(RevisionChoice(all_branches=True)):
            params = comparison.params(revision)
            metrics = comparison.metrics(revision)
            rows.append(
                {
                    "rev": revision.label,
                    "params": _merged(_data(params.files)),
                    "metrics": _merged(_data(metrics.files)),
                }
            )
    return rows


def _data(files: dict[str, Any]) -> dict[str, Any]:
    return {path: v.data for path, v in files.items() if isinstance(v.data, dict)}


@contextlib.contextmanager
def _comparison(repo: str | None) -> Iterator[Any]:
    """A `Comparison` of the project `repo` (cloned first when it is a URL)."""
    from .compare.collect import Comparison
    from .project import find_root

    folder = None
    if repo is None:
        root = find_root(".")
    elif os.path.isdir(repo):
        root = os.path.abspath(repo)
    else:
        from .external.source import clone_workspace

        folder = tempfile.mkdtemp(prefix="llmpipe-api-")
        root = clone_workspace(repo, os.path.join(folder, "repo"))
    try:
        with Comparison(root, _project_odb(root)) as comparison:
            yield comparison
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


def _project_odb(root: str) -> Any:
    from .project import read_only_view

    return read_only_view(root)[1]


def _revision(comparison: Any, rev: str | None) -> Any:
    from .compare.revisions import Revision, resolve

    if rev is None:
        return Revision("", None)
    return Revision(rev, resolve(comparison.git_root, comparison.objects, rev))


def _targets(comparison: Any, repo: str | None, targets: tuple[str, ...]) -> list[str]:
    """Targets as repository paths: from the current folder when `repo` is None."""
    if repo is not None:
        return [t.replace(os.sep, "/") for t in targets]
    root = comparison.root
    return [os.path.relpath(os.path.abspath(t), root).replace(os.sep, "/") for t in targets]


def _raise_problems(values: Any) -> None:
    from .errors import LlmpipeError

    if values.problems:
        raise LlmpipeError("; ".join(values.problems))


def _for_stages(
    comparison: Any, revision: Any, names: list[str], data: dict[str, Any]
) -> dict[str, Any]:
    """The part of `data` ({file: params}) the stages `names` depend on."""
    from .compare.collect import only_keys
    from .errors import TargetError
    from .spec import load_stages

    tree = comparison.root if revision.commit is None else comparison.tree(revision)
    stages = {s.address: s for s in load_stages(tree)}
    keys: dict[str, set[str] | None] = {}
    for name in names:
        stage = stages.get(name)
        if stage is None:
            raise TargetError(f"no stage named '{name}' (known: {', '.join(sorted(stages))})")
        for ref in stage.params:
            path = stage.repo_path(ref.file)
            if path in keys and keys[path] is None:
                continue
            keys[path] = None if not ref.keys else {*(keys.get(path) or ()), *ref.keys}
    return {
        path: only_keys(data[path], None if wanted is None else tuple(wanted))
        for path, wanted in keys.items()
        if path in data
    }


def _merged(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """dvc.api's merge: top-level keys of every file; one in several files as `file:key`."""
    counts = Counter(key for data in files.values() for key in data)
    merged: dict[str, Any] = {}
    for path, data in files.items():
        merged.update({(k if counts[k] == 1 else f"{path}:{k}"): v for k, v in data.items()})
    return merged
