"""The pipeline as one revision declares it: its metrics, params and plots files.

The workspace is parsed in place. For a commit, the few files the dvc.yaml
loader reads (each dvc.yaml, the dvc.lock and params.yaml beside it, and the
`vars` files it names) are written from git into a temporary directory and
parsed there, so the spec loader serves every revision unchanged.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import LlmpipeError
from ..lockfile import hashes_in, read_lock
from ..revfs import RevTree, WorkTree
from ..stage import HashInfo, Stage

Tree = RevTree | WorkTree


@dataclass(frozen=True)
class TrackedFile:
    """A metrics or plots file: repo-relative `path`; the hash its revision's lock records."""

    path: str
    cached: bool = False
    hash_info: HashInfo | None = None


@dataclass(frozen=True)
class PlotDef:
    """One plot: an id, the files it draws from and its options (x, y, title, …)."""

    id: str
    files: tuple[TrackedFile, ...]
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pipeline:
    """What one revision's dvc.yaml files declare; `error` when they could not be read."""

    dvcyamls: tuple[str, ...] = ()
    metrics: tuple[TrackedFile, ...] = ()
    params: tuple[str, ...] = ()
    tracked_params: dict[str, set[str] | None] = field(default_factory=dict)
    plots: tuple[PlotDef, ...] = ()
    error: str | None = None


def load_pipeline(tree: Tree, scratch: str | None = None) -> Pipeline:
    """Parse every dvc.yaml of `tree`; a spec error becomes `Pipeline.error`.

    `scratch` is an empty directory to parse a commit's files in (left empty
    again afterwards); without it a temporary one is made.
    """
    try:
        if isinstance(tree, WorkTree):
            return _load_from_root(tree.root, _workspace_dvcyamls(tree.root), tree)
        if scratch is None:
            with tempfile.TemporaryDirectory(prefix="llmpipe-rev-") as scratch:
                return _load_commit(tree, scratch)
        return _load_commit(tree, scratch)
    except LlmpipeError as exc:
        return Pipeline(error=str(exc))


def _load_commit(tree: RevTree, scratch: str) -> Pipeline:
    dvcyamls = _rev_dvcyamls(tree)
    written: list[str] = []
    try:
        _materialize(tree, dvcyamls, scratch, written)
        return _load_from_root(scratch, dvcyamls, tree)
    finally:
        for path in written:  # cheaper than a new directory per revision
            os.unlink(path)


def _workspace_dvcyamls(root: str) -> list[str]:
    from ..spec import discover_dvcfiles

    return [p for p in discover_dvcfiles(root) if posixpath.basename(p) == "dvc.yaml"]


def _rev_dvcyamls(tree: RevTree) -> list[str]:
    nested = {p[: -len("/.dvc/config")] for p in tree.paths() if p.endswith("/.dvc/config")}
    found = []
    for path in tree.paths():
        if posixpath.basename(path) != "dvc.yaml" or path.startswith(".dvc/"):
            continue
        if any(path.startswith(repo + "/") for repo in nested):
            continue  # a nested DVC project is a project of its own
        found.append(path)
    return sorted(found)


def _materialize(tree: RevTree, dvcyamls: list[str], scratch: str, written: list[str]) -> None:
    """Write the files the dvc.yaml loader reads; their paths are appended to `written`."""
    for relpath in dvcyamls:
        text = _write(tree, relpath, scratch, written)
        base = posixpath.dirname(relpath)
        for sibling in ("dvc.lock", "params.yaml"):
            _write(tree, posixpath.join(base, sibling), scratch, written)
        for name in _vars_files(text, relpath):
            _write(tree, posixpath.normpath(posixpath.join(base, name)), scratch, written)


def _write(tree: RevTree, relpath: str, scratch: str, written: list[str]) -> bytes | None:
    content = tree.read_bytes(relpath)
    target = os.path.join(scratch, *relpath.split("/"))
    if content is None or target in written:
        return content
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(content)
    written.append(target)
    return content


@lru_cache(maxsize=256)
def _vars_files(text: bytes | None, relpath: str) -> tuple[str, ...]:
    """File names in top-level and stage-level `vars` lists (relative to the dvc.yaml).

    Cached by content: branches usually share their dvc.yaml.
    """
    return tuple(_scan_vars(text, relpath))


def _scan_vars(text: bytes | None, relpath: str) -> Iterator[str]:
    from ..yamlio import load_yaml

    try:
        data = load_yaml((text or b"").decode("utf-8"), relpath)
    except (LlmpipeError, UnicodeDecodeError):
        return  # the real parse reports the error
    if not isinstance(data, dict):
        return
    owners = [data]
    for definition in (data.get("stages") or {}).values():
        if isinstance(definition, dict):
            owners.extend([definition, definition.get("do") or {}])
    for owner in owners:
        entries = owner.get("vars") if isinstance(owner, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, str):
                name = entry.partition(":")[0]
                yield name
                wdir = owner.get("wdir")
                if isinstance(wdir, str) and "${" not in wdir:
                    yield posixpath.join(wdir, name)


def _load_from_root(root: str, dvcyamls: list[str], tree: Tree) -> Pipeline:
    from ..spec import parse_dvcyaml

    metrics: list[TrackedFile] = []
    params: list[str] = []
    tracked: dict[str, set[str] | None] = {}
    plots: list[PlotDef] = []
    for relpath in dvcyamls:
        spec = parse_dvcyaml(root, relpath)
        base = posixpath.dirname(relpath)
        locks = read_lock(root, posixpath.join(base, "dvc.lock"))
        for stage in spec.stages:
            recorded = hashes_in(locks.get(stage.name) or {}, "outs")
            metrics.extend(_stage_files(stage, "metric", recorded))
            plots.extend(_stage_plots(stage, recorded, spec.plot_props.get(stage.name, {})))
            _add_params(stage, params, tracked)
        metrics.extend(_top_files(tree, base, spec.metrics))
        params.extend(_join(base, p) for p in spec.params)
        plots.extend(_top_plots(tree, base, spec.plots))
        default = _join(base, "params.yaml")
        if tree.exists(default):
            params.append(default)
    return Pipeline(
        dvcyamls=tuple(dvcyamls),
        metrics=tuple(_dedupe(metrics)),
        params=tuple(dict.fromkeys(params)),
        tracked_params=tracked,
        plots=tuple(plots),
    )


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _stage_files(stage: Stage, kind: str, recorded: dict[str, HashInfo]) -> Iterator[TrackedFile]:
    for out in stage.outs:
        if out.kind == kind:
            yield TrackedFile(stage.repo_path(out.path), out.cache, recorded.get(out.path))


def _stage_plots(stage: Stage, recorded: dict[str, HashInfo], props: dict) -> Iterator[PlotDef]:
    for tracked in _stage_files(stage, "plot", recorded):
        local = posixpath.relpath(tracked.path, stage.wdir) if stage.wdir != "." else tracked.path
        options = props.get(local) or props.get(tracked.path) or {}
        yield PlotDef(tracked.path, (tracked,), options if isinstance(options, dict) else {})


def _add_params(stage: Stage, params: list[str], tracked: dict[str, set[str] | None]) -> None:
    for ref in stage.params:
        path = stage.repo_path(ref.file)
        params.append(path)
        if not ref.keys:
            tracked[path] = None
        elif tracked.get(path, set()) is not None:
            tracked.setdefault(path, set()).update(ref.keys)  # type: ignore[union-attr]


def _top_files(tree: Tree, base: str, paths: tuple[str, ...]) -> Iterator[TrackedFile]:
    for path in paths:
        for found in _expand_dir(tree, _join(base, path)):
            yield TrackedFile(found)


def _expand_dir(tree: Tree, path: str) -> list[str]:
    """`path` itself, or the files under it when it names a directory of the tree."""
    if isinstance(tree, RevTree):
        inside = sorted(p for p in tree.paths() if p.startswith(path + "/"))
    else:
        full = os.path.join(tree.root, path)
        inside = sorted(
            posixpath.join(path, os.path.relpath(os.path.join(d, f), full).replace(os.sep, "/"))
            for d, _, files in os.walk(full)
            for f in files
        )
    return inside or [path]


def _top_plots(tree: Tree, base: str, entries: tuple[Any, ...]) -> Iterator[PlotDef]:
    for entry in entries:
        if isinstance(entry, str):
            for found in _expand_dir(tree, _join(base, entry)):
                yield PlotDef(found, (TrackedFile(found),))
            continue
        for plot_id, options in entry.items():
            options = options if isinstance(options, dict) else {}
            files = _plot_files(base, str(plot_id), options)
            yield PlotDef(str(plot_id), tuple(TrackedFile(f) for f in files), options)


def _plot_files(base: str, plot_id: str, options: dict) -> list[str]:
    """Files a top-level plot reads: the keys of a mapping `y` (or `x`), else its id."""
    for axis in ("y", "x"):
        value = options.get(axis)
        if isinstance(value, dict):
            return [_join(base, str(f)) for f in value]
    return [_join(base, plot_id)]


def _dedupe(files: list[TrackedFile]) -> list[TrackedFile]:
    seen: dict[str, TrackedFile] = {}
    for item in files:
        if item.path not in seen or (item.hash_info and not seen[item.path].hash_info):
            seen[item.path] = item
    return list(seen.values())
