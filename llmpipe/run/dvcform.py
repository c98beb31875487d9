"""A stage's status in the form `dvc status --json` prints it.

dvc reports, per stage, a list of `{"changed deps": {path: state}}`,
`{"changed outs": {path: state}}`, `"always changed"` and `"changed command"`
(`"changed checksum"` for a `.dvc` file), where a state is `deleted`,
`modified`, `new` or `not in cache`, and a params file maps to
`{key: state}` (or to `"new"` when its lock entry records none of it). Paths
are shown as dvc shows them: relative to the current directory when that is
inside the project, else to the project root.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..stage import Stage
from .status import Reason, StatusEntry

_DEP_STATES = {"dep-missing": "deleted", "dep-modified": "modified"}
_OUT_STATES = {
    "out-missing": "deleted",
    "out-modified": "modified",
    "out-not-cached": "not in cache",
}
_PARAM_STATES = {"param-changed": "modified", "param-new": "new", "param-deleted": "deleted"}
_NO_ENTRY = "params-file-new"  # the lock records nothing of a params file
_FLAGS = {
    "always-changed": "always changed",
    "cmd": "changed command",
    "checksum": "changed checksum",
}

DvcStatus = dict[str, list[Any]]


def dvc_status(entries: Iterable[StatusEntry], root: str, cwd: str) -> DvcStatus:
    """{stage as dvc addresses it: [changes]} of the entries that changed."""
    shown = _Shown(root, cwd)
    report: DvcStatus = {}
    for entry in entries:
        if entry.reasons and entry.stage is not None:
            report[shown.address(entry.stage)] = _stage_form(entry.stage, entry.reasons, shown)
    return report


class _Shown:
    """Repository paths as dvc prints them (relative to `cwd` when it is in the project)."""

    def __init__(self, root: str, cwd: str) -> None:
        self.root = os.path.abspath(root)
        cwd = os.path.abspath(cwd)
        inside = cwd == self.root or cwd.startswith(self.root + os.sep)
        self.base = cwd if inside else self.root

    def exists(self, repo_path: str) -> bool:
        return os.path.lexists(os.path.join(self.root, repo_path))

    def path(self, repo_path: str) -> str:
        full = os.path.join(self.root, repo_path)
        return os.path.relpath(full, self.base).replace(os.sep, "/")

    def address(self, stage: Stage) -> str:
        if stage.is_data_source:
            return self.path(stage.dvcfile)
        dvcfile = self.path(stage.dvcfile)
        return stage.name if dvcfile == "dvc.yaml" else f"{dvcfile}:{stage.name}"


def _stage_form(stage: Stage, reasons: tuple[Reason, ...], shown: _Shown) -> list[Any]:
    kinds = {reason.kind for reason in reasons}
    if "new" in kinds:
        deps, outs = _never_run(stage, shown)
    else:
        deps, outs = _changed(stage, reasons, shown)
    form: list[Any] = []
    if deps:
        form.append({"changed deps": deps})
    if outs:
        form.append({"changed outs": outs})
    if not stage.deps and not stage.outs and not stage.is_data_source:
        kinds.add("always-changed")  # dvc's "callback" stage: a command alone
    form.extend(text for kind, text in _FLAGS.items() if kind in kinds)
    if not form:
        # llmpipe re-runs a stage whose list of deps or outs lost an entry; dvc's
        # word for "the stage differs from what was recorded" is its checksum.
        form.append("changed checksum")
    return form


def _never_run(stage: Stage, shown: _Shown) -> tuple[dict[str, Any], dict[str, Any]]:
    """What dvc reports for a stage without a lock entry: every dep, params file and out."""
    deps: dict[str, Any] = {}
    for dep in stage.deps:
        deps[shown.path(stage.repo_path(dep.path))] = _presence(shown, stage, dep.path, "modified")
    for ref in stage.params:
        deps[shown.path(stage.repo_path(ref.file))] = _presence(shown, stage, ref.file, "new")
    outs = {
        shown.path(stage.repo_path(out.path)): _presence(shown, stage, out.path, "modified")
        for out in stage.outs
    }
    return deps, outs


def _presence(shown: _Shown, stage: Stage, path: str, present: str) -> str:
    return present if shown.exists(stage.repo_path(path)) else "deleted"


def _changed(
    stage: Stage, reasons: tuple[Reason, ...], shown: _Shown
) -> tuple[dict[str, Any], dict[str, Any]]:
    deps: dict[str, Any] = {}
    outs: dict[str, Any] = {}
    declared_deps = {dep.path for dep in stage.deps}
    declared_outs = {out.path for out in stage.outs}
    params_files = {ref.file for ref in stage.params}
    for reason in reasons:
        path, kind = reason.path or "", reason.kind
        shown_path = shown.path(stage.repo_path(path))
        if kind in _DEP_STATES:
            deps[shown_path] = _DEP_STATES[kind]
        elif kind == "update-available":
            deps[path] = "update available"
        elif kind == _NO_ENTRY:
            deps[shown_path] = "new"
        elif kind in _PARAM_STATES and reason.file in params_files:
            # dvc leaves out params files the stage no longer names, as it does deps.
            file = shown.path(stage.repo_path(reason.file or ""))
            deps.setdefault(file, {})[path] = _PARAM_STATES[kind]
        elif kind in _OUT_STATES:
            outs[shown_path] = _OUT_STATES[kind]
        elif kind == "deps-changed" and path in declared_deps:
            deps.setdefault(shown_path, _presence(shown, stage, path, "modified"))
        elif kind == "outs-changed" and path in declared_outs:
            outs.setdefault(shown_path, _presence(shown, stage, path, "modified"))
    return _in_order(deps, stage, shown, params=True), _in_order(outs, stage, shown)


def _in_order(found: dict[str, Any], stage: Stage, shown: _Shown, params: bool = False) -> dict:
    """`found` in the order dvc lists a stage's entries: deps, then params files; outs."""
    if params:
        paths = [dep.path for dep in stage.deps] + [ref.file for ref in stage.params]
    else:
        paths = [out.path for out in stage.outs]
    order = [shown.path(stage.repo_path(p)) for p in paths]
    rank = {path: index for index, path in reversed(list(enumerate(order)))}
    return dict(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))
