"""`move`: rename data tracked by a `.dvc` file, as `dvc move` does.

The data moves, its `.gitignore` entry moves with it, and the `.dvc` file records the
new path. When the `.dvc` file is named after the output (`a.txt.dvc` for `a.txt`),
it is renamed too and written afresh, as dvc writes a new stage (comments and
unknown fields go; `desc`, `frozen`, `always_changed`, `meta` stay); otherwise only
its output's `path` changes in place. Outputs of dvc.yaml stages are refused, as dvc
refuses them.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SpecError, TargetError
from ..fsutil import atomic_write_text
from ..gitignore import ignore_output, unignore_output
from ..run.repolock import repo_lock
from ..spec.imports import stage_md5
from ..stage import Stage, is_url
from ..yamlio import dump_yaml, load_for_update
from .audit import Outcome, Targets, audited
from .targets import project_graph, repo_relpath

if TYPE_CHECKING:
    from ..project import Project

# What a renamed `.dvc` file keeps, in the order dvc writes a stage.
_STAGE_KEYS = ("desc", "md5", "wdir", "frozen", "deps", "outs", "always_changed", "meta")


@dataclass(frozen=True)
class Moved:
    """Data moved from `source` to `target` (repository-relative), and its `.dvc` files."""

    source: str
    target: str
    old_dvcfile: str
    dvcfile: str


def describe_moved(moved: Moved) -> tuple[Targets, Outcome]:
    return [{"path": moved.source, "to": moved.target}], Outcome()


@audited("move", describe=describe_moved)
def move(project: Project, src: str, dst: str) -> Moved:
    """Move the tracked `src` to `dst` (into it when `dst` is a folder).

    TargetError when `src` is no `.dvc` file's output; SpecError for a dvc.yaml stage's
    output, a missing destination folder, or a `.dvc` file in the way.
    """
    failure = _failure(src, dst)
    if os.path.isdir(dst):
        dst = os.path.join(dst, os.path.basename(os.path.normpath(src)))
    with repo_lock(project.tmp_dir):
        source = repo_relpath(project, src)
        stage = _owner(project, source, src, failure)
        target = repo_relpath(project, dst)
        dvcfile = _new_dvcfile(project, stage, source, target, dst, failure)
        _rewrite(project, stage, target, dvcfile, failure)
        _move_data(project, source, target)
        return Moved(source, target, stage.dvcfile, dvcfile)


def _failure(src: str, dst: str) -> str:
    return f"failed to move '{src}' -> '{dst}'"


def _owner(project: Project, source: str, src: str, failure: str) -> Stage:
    graph = project_graph(project)
    address = graph.producers.get(source)
    if address is None:
        raise TargetError(f"{failure} - Unable to find DVC file with output '{src}'")
    stage = graph.stages[address]
    if not stage.is_data_source:
        raise SpecError(
            f"{failure} - move is not permitted for stages that are not data"
            f" sources. You need to either move '{stage.name}' to a new location and edit"
            f" it by hand, or remove '{stage.name}' and create a new one at the desired"
            " location."
        )
    return stage


def _new_dvcfile(
    project: Project, stage: Stage, source: str, target: str, dst: str, failure: str
) -> str:
    """The `.dvc` file after the move: renamed when it is named after the output."""
    named_after = posixpath.basename(stage.dvcfile).removesuffix(".dvc")
    if named_after != posixpath.basename(source):
        return stage.dvcfile
    folder = os.path.join(project.root, posixpath.dirname(target))
    if not os.path.isdir(folder):
        raise SpecError(f"{failure} - stage working dir '{folder}' does not exist")
    dvcfile = target + ".dvc"
    if os.path.exists(os.path.join(project.root, dvcfile)):
        shown = os.path.join(os.path.dirname(dst), os.path.basename(dst) + ".dvc")
        raise SpecError(f"{failure} - '{shown}' already exists")
    return dvcfile


def _rewrite(project: Project, stage: Stage, target: str, dvcfile: str, failure: str) -> None:
    path = os.path.join(project.root, stage.dvcfile)
    with open(path, encoding="utf-8") as handle:
        document = load_for_update(handle.read())
    outs = document.get("outs") if isinstance(document, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise SpecError(f"{failure} - '{stage.dvcfile}' must have exactly one output to move")
    old_wdir = posixpath.dirname(stage.dvcfile)
    new_wdir = posixpath.dirname(dvcfile)
    outs[0]["path"] = _relative(target, new_wdir if dvcfile != stage.dvcfile else stage.wdir)
    for dep in document.get("deps") or ():
        if isinstance(dep, dict) and isinstance(dep.get("path"), str) and "repo" not in dep:
            dep["path"] = _moved_dep(dep["path"], old_wdir, new_wdir)
    if dvcfile != stage.dvcfile:
        document = {k: _plain(document[k]) for k in _STAGE_KEYS if document.get(k)}
    if document.get("md5"):
        document["md5"] = stage_md5({k: v for k, v in document.items() if k != "md5"})
    atomic_write_text(os.path.join(project.root, dvcfile), dump_yaml(document))
    if dvcfile != stage.dvcfile:
        os.remove(path)


def _relative(path: str, wdir: str) -> str:
    return posixpath.relpath(path, wdir or ".")


def _moved_dep(path: str, old_wdir: str, new_wdir: str) -> str:
    """A dep inside the workspace, named relative to the `.dvc` file's new folder."""
    if is_url(path) or posixpath.isabs(path) or old_wdir == new_wdir:
        return path
    return posixpath.relpath(posixpath.join(old_wdir or ".", path), new_wdir or ".")


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def _move_data(project: Project, source: str, target: str) -> None:
    """Move the data itself (when present: dvc moves the `.dvc` file regardless)."""
    old = os.path.join(project.root, source)
    if os.path.lexists(old):
        os.makedirs(os.path.dirname(os.path.join(project.root, target)), exist_ok=True)
        shutil.move(old, os.path.join(project.root, target))
    unignore_output(project.root, source)
    ignore_output(project.root, target)
