"""The pipeline as one revision declares it: its metrics, params and plots files.

The spec loader and `llmpipe.outputs` read a commit's dvc.yaml, params, `vars`
and lock files straight from git objects (a `revfs` tree), as they read the
workspace's files from disk.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import LlmpipeError
from ..outputs import recorded_outputs
from ..revfs import RevTree, Tree, TreeMemo, WorkTree
from ..spec import discover_dvcfiles, dvcfiles_at, parse_dvcyaml
from ..stage import HashInfo, Stage


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


def load_pipeline(tree: Tree, memo: TreeMemo | None = None) -> Pipeline:
    """Parse every dvc.yaml of `tree`; a spec error becomes `Pipeline.error`.

    `memo` (when reading many revisions) parses each file once per content.
    """
    try:
        return _load(tree, memo or TreeMemo())
    except LlmpipeError as exc:
        return Pipeline(error=str(exc))


def _dvcyamls(tree: Tree) -> list[str]:
    files = discover_dvcfiles(tree.root) if isinstance(tree, WorkTree) else dvcfiles_at(tree)
    return [path for path in files if posixpath.basename(path) == "dvc.yaml"]


def _load(tree: Tree, memo: TreeMemo) -> Pipeline:
    metrics: list[TrackedFile] = []
    params: list[str] = []
    tracked: dict[str, set[str] | None] = {}
    plots: list[PlotDef] = []
    dvcyamls = _dvcyamls(tree)
    for relpath in dvcyamls:
        spec = memo.get(parse_dvcyaml, relpath, tree)
        base = posixpath.dirname(relpath)
        recorded = {out.path: out.info for out in recorded_outputs(tree, spec.stages)}
        for stage in spec.stages:
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
    """`kind` outputs of `stage`; `recorded` holds hashes by repository path."""
    for out in stage.outs:
        if out.kind == kind:
            path = stage.repo_path(out.path)
            yield TrackedFile(path, out.cache, recorded.get(path))


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
