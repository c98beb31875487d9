"""The pipeline as one revision declares it: its metrics, params and plots files,
and the outputs it records (where a file that git lacks is found in the cache).

The spec loader and `llmpipe.outputs` read a commit's dvc.yaml, `.dvc`, params,
`vars` and lock files straight from git objects (a `revfs` tree), as they read
the workspace's files from disk. The lists follow dvc's rules and order: stage
metrics before top-level ones; params files with the keys stages track, whole
when any stage, the top-level `params:` or the default `params.yaml` names the
file; values stages interpolate from other files (dvc's tracked `vars`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..errors import LlmpipeError
from ..outputs import UsedOutput, recorded_outputs
from ..revfs import Tree, TreeMemo, WorkTree
from ..spec import discover_dvcfiles, dvcfiles_at, load_file_stages, parse_dvcyaml
from ..stage import Stage

DEFAULT_PARAMS = "params.yaml"


@dataclass(frozen=True)
class ParamsFile:
    """A params file and the dotted keys shown of it (None: the whole file)."""

    path: str
    keys: tuple[str, ...] | None = None


# The options of a plot that dvc reads; others (cache, persist, …) belong to the output.
PLOT_PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")


@dataclass(frozen=True)
class PlotDef:
    """One plot as a dvc file defines it (dvc's "definition").

    `config` is the dvc.yaml of a top-level plot ('' for a stage's plots output).
    `id` is a repository path when `is_path` (it may name a folder of plots files),
    else a name whose `y` (and `x`) map repository paths to fields.
    """

    config: str
    id: str
    props: dict[str, Any] = field(default_factory=dict)
    is_path: bool = True


@dataclass(frozen=True)
class Pipeline:
    """What one revision's dvc files declare and record; `error` when they could not be read.

    `params` is every params file shown by default, `deps_params` only those
    stages depend on (with the keys they track), `vars_used` the values stages
    interpolate from files (see `vars_params`). `outputs` holds every cached output
    the revision records (read through the cache), `cached_outs` the paths declared as
    cached outputs. A `cache: false` output is read from git only, as dvc reads it,
    even when its content is in the cache (saved there for the run-cache).
    """

    dvcyamls: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()  # repository paths of metrics files (or folders)
    params: tuple[ParamsFile, ...] = ()
    deps_params: tuple[ParamsFile, ...] = ()
    vars_used: tuple[tuple[str, dict[str, Any]], ...] = ()
    plots: tuple[PlotDef, ...] = ()
    outputs: tuple[UsedOutput, ...] = ()
    cached_outs: frozenset[str] = frozenset()
    stages: tuple[Stage, ...] = ()
    error: str | None = None


def load_pipeline(tree: Tree, memo: TreeMemo | None = None) -> Pipeline:
    """Parse every dvc.yaml and `.dvc` file of `tree`; a spec error becomes `Pipeline.error`.

    `memo` (when reading many revisions) parses each file once per content.
    """
    try:
        return _load(tree, memo or TreeMemo())
    except LlmpipeError as exc:
        return Pipeline(error=str(exc))


def _dvcfiles(tree: Tree) -> list[str]:
    return discover_dvcfiles(tree.root) if isinstance(tree, WorkTree) else dvcfiles_at(tree)


def _load(tree: Tree, memo: TreeMemo) -> Pipeline:
    found = _Declared()
    dvcyamls = []
    for relpath in _dvcfiles(tree):
        if posixpath.basename(relpath) != "dvc.yaml":
            found.stages.extend(memo.get(load_file_stages, relpath, tree))
            continue
        dvcyamls.append(relpath)
        found.add_dvcyaml(tree, relpath, memo.get(parse_dvcyaml, relpath, tree))
    if tree.exists(DEFAULT_PARAMS):
        found.whole_params.append(DEFAULT_PARAMS)
    params = _merge(found.stage_params, found.whole_params)
    return Pipeline(
        dvcyamls=tuple(dvcyamls),
        metrics=tuple(dict.fromkeys(found.metrics + found.top_metrics)),
        params=params,
        deps_params=_merge(found.stage_params, []),
        vars_used=tuple(found.vars),
        plots=tuple(found.top_plots + found.plots),  # dvc's order: dvc.yaml files first
        outputs=tuple(out for out in recorded_outputs(tree, found.stages) if out.cache),
        cached_outs=frozenset(
            stage.repo_path(out.path) for stage in found.stages for out in stage.cached_outs
        ),
        stages=tuple(found.stages),
    )


class _Declared:
    """What the dvc files of a revision declare, gathered file by file in dvc's order."""

    def __init__(self) -> None:
        self.stages: list[Stage] = []
        self.metrics: list[str] = []
        self.top_metrics: list[str] = []
        self.stage_params: list[tuple[str, tuple[str, ...]]] = []
        self.whole_params: list[str] = []
        self.vars: list[tuple[str, dict[str, Any]]] = []
        self.plots: list[PlotDef] = []  # stages' plots outputs
        self.top_plots: list[PlotDef] = []

    def add_dvcyaml(self, tree: Tree, relpath: str, spec: Any) -> None:
        base = posixpath.dirname(relpath)
        self.stages.extend(spec.stages)
        for stage in spec.stages:
            self.metrics += [stage.repo_path(o.path) for o in stage.outs if o.kind == "metric"]
            self.plots += _stage_plots(stage, spec.plot_props.get(stage.name, {}))
            self.stage_params += [(stage.repo_path(r.file), r.keys) for r in stage.params]
            self.vars += list(spec.tracked_params.get(stage.name, {}).items())
        self.top_metrics += [_join(base, path) for path in spec.metrics]
        self.whole_params += [_join(base, path) for path in spec.params]
        self.top_plots += _top_plots(relpath, spec.plots)


def _merge(stage_params: list[tuple[str, tuple[str, ...]]], whole: list[str]) -> tuple:
    """Params files in first-mention order; a file named whole anywhere is shown whole."""
    keys: dict[str, list[str] | None] = {}
    for path, tracked in [*stage_params, *((path, ()) for path in whole)]:
        if not tracked:
            keys[path] = None
        elif keys.get(path, []) is not None:
            keys.setdefault(path, []).extend(tracked)  # type: ignore[union-attr]
    return tuple(
        ParamsFile(path, None if k is None else tuple(dict.fromkeys(k))) for path, k in keys.items()
    )


def vars_params(pipeline: Pipeline, shown: set[str]) -> dict[str, dict[str, Any]]:
    """{file: {dotted key: value}} stages interpolated, from files not `shown` as params.

    dvc lists these with the params files (they are not in dvc.lock)."""
    found: dict[str, dict[str, Any]] = {}
    for path, values in pipeline.vars_used:
        if path not in shown:
            found.setdefault(path, {}).update(values)
    return found


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _stage_plots(stage: Stage, props: dict) -> list[PlotDef]:
    plots = []
    for out in stage.outs:
        if out.kind != "plot":
            continue
        path = stage.repo_path(out.path)
        local = posixpath.relpath(path, stage.wdir) if stage.wdir != "." else path
        options = props.get(out.path) or props.get(local) or props.get(path) or {}
        plots.append(PlotDef("", path, _plot_props(options)))
    return plots


def _plot_props(options: Any) -> dict[str, Any]:
    if not isinstance(options, dict):
        return {}
    return {key: value for key, value in options.items() if key in PLOT_PROPS}


def _top_plots(config: str, entries: tuple[Any, ...]) -> list[PlotDef]:
    """The top-level `plots:` of the dvc.yaml `config`: paths are made repository paths."""
    base = posixpath.dirname(config)
    plots = []
    for entry in entries:
        for plot_id, options in ({entry: None} if isinstance(entry, str) else entry).items():
            props = options if isinstance(options, dict) else {}
            if not isinstance(props.get("y"), dict):
                plots.append(PlotDef(config, _join(base, str(plot_id)), dict(props)))
                continue
            for axis in ("x", "y"):
                if isinstance(props.get(axis), dict):
                    props = {**props, axis: {_join(base, f): v for f, v in props[axis].items()}}
            plots.append(PlotDef(config, str(plot_id), props, is_path=False))
    return plots
