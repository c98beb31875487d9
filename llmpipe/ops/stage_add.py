"""`stage add`: write a new stage into dvc.yaml, exactly as `dvc stage add` writes it.

dvc's layout: `desc`, `cmd`, `wdir`, `deps` (sorted), `params` (params.yaml keys
first, then other files by name), `outs`, `metrics`, `plots` (each sorted by
path, an output with options as `{path: {option: value}}`), `always_changed`.
The rest of dvc.yaml (comments, other stages) stays as it is.
"""

from __future__ import annotations

import os
import posixpath
import string
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import GraphError, SpecError
from ..fsutil import atomic_write_text
from ..gitignore import ignore_output
from ..graph import build_graph
from ..run.repolock import repo_lock
from ..yamlio import dump_yaml, load_for_update
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project

DEFAULT_PARAMS = "params.yaml"
_INVALID_NAME_CHARS = set(string.punctuation) - {"_", "-"}  # dvc's rule


@dataclass(frozen=True)
class OutSpec:
    path: str
    kind: str = "outs"  # outs, metrics or plots
    cache: bool = True
    persist: bool = False


@dataclass(frozen=True)
class StageSpec:
    """What the flags of `stage add` describe; paths as typed (relative to `wdir`)."""

    name: str
    command: tuple[str, ...]
    deps: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # `[file:]key1,key2`
    outs: tuple[OutSpec, ...] = ()
    wdir: str | None = None
    always_changed: bool = False
    desc: str | None = None


@dataclass(frozen=True)
class AddedStage:
    name: str
    dvcfile: str
    gitignores: tuple[str, ...]


def describe_stage(added: AddedStage) -> tuple[Targets, Outcome]:
    return [{"stage": added.name, "dvcfile": added.dvcfile}], Outcome()


@audited("stage add", describe=describe_stage)
def add_stage(project: Project, spec: StageSpec, force: bool = False) -> AddedStage:
    """Add (with `force`, replace) stage `spec.name` in the dvc.yaml of the current
    directory. SpecError for bad input; GraphError when the stage would clash with
    another (an output tracked twice, a cycle): then nothing is written."""
    relpath = _dvcfile(project)
    path = os.path.join(project.root, relpath)
    entry = stage_entry(spec)
    _check(project, relpath, spec)
    with repo_lock(project.tmp_dir):
        before = _read(path)
        document = load_for_update(before or "")
        stages = document.setdefault("stages", {})
        if spec.name in stages and not force:
            raise SpecError(
                f"stage '{spec.name}' already exists in '{relpath}'; use -f/--force to overwrite"
            )
        if spec.name in stages:
            _replace(stages[spec.name], entry)
        else:
            stages[spec.name] = entry
        atomic_write_text(path, dump_yaml(document))
        try:
            build_graph(project.stages())
        except (GraphError, SpecError):
            _restore(path, before)
            raise
        ignored = _ignore_outputs(project, relpath, spec)
    return AddedStage(spec.name, relpath, tuple(ignored))


def stage_entry(spec: StageSpec) -> dict[str, Any]:
    """The dvc.yaml mapping of the stage, keys and lists in dvc's order."""
    outs = sorted(spec.outs, key=lambda o: o.path)
    entry: dict[str, Any] = {
        "desc": spec.desc,
        "cmd": command_text(spec.command),
        "wdir": spec.wdir if spec.wdir not in (None, ".", "") else None,
        "deps": sorted(spec.deps),
        "params": params_keys(spec.params),
        "outs": [_out(o) for o in outs if o.kind == "outs"],
        "metrics": [_out(o) for o in outs if o.kind == "metrics"],
        "plots": [_out(o) for o in outs if o.kind == "plots"],
        "always_changed": spec.always_changed,
    }
    return {key: value for key, value in entry.items() if value}


def _replace(old: Any, entry: dict[str, Any]) -> None:
    """dvc's `--force`: the old stage's `desc` and `meta` stay; the rest is replaced in
    place, so keys that stay keep their position and comments."""
    for kept in ("desc", "meta"):
        if kept in old:
            entry[kept] = old[kept]
    merge_into(entry, old)


def merge_into(new: Any, old: Any) -> None:
    """Make the round-trip document `old` equal `new`, changing only what differs."""
    if isinstance(new, dict) and isinstance(old, dict):
        for key, value in new.items():
            if key in old and _same_kind(value, old[key]):
                merge_into(value, old[key])
            elif key not in old or value != old[key]:
                old[key] = value
        for key in set(old) - set(new):
            del old[key]
    elif len(new) != len(old):
        old[:] = new
    else:
        for index, value in enumerate(new):
            if _same_kind(value, old[index]):
                merge_into(value, old[index])
            elif value != old[index]:
                old[index] = value


def _same_kind(a: Any, b: Any) -> bool:
    return any(isinstance(a, t) and isinstance(b, t) for t in (dict, list))


def command_text(command: Sequence[str]) -> str:
    """dvc's joining of the words typed: one stays as it is; several are joined, with an
    empty word as `""` and a word holding spaces (and no `"`) in double quotes."""
    if len(command) < 2:
        return " ".join(command)

    def quoted(word: str) -> str:
        if not word:
            return '""'
        return f'"{word}"' if " " in word and '"' not in word else word

    return " ".join(map(quoted, command))


def params_keys(params: Sequence[str]) -> list[Any]:
    """`-p [file:]k1,k2` flags as dvc.yaml lists them: params.yaml's keys first (sorted),
    then `{file: [keys]}` by file name (`{file: None}`: the whole file)."""
    by_file: dict[str, list[str]] = defaultdict(list)
    for flag in params:
        file, _, keys = flag.rpartition(":")
        by_file[file or DEFAULT_PARAMS].extend(k for k in keys.split(",") if k)
    listed: list[Any] = []
    for file in sorted(by_file):
        keys = sorted(by_file[file])
        if keys and file == DEFAULT_PARAMS:
            listed = keys + listed
        else:
            listed.append({file: keys or None})
    return listed


def _out(out: OutSpec) -> Any:
    options: dict[str, Any] = {}
    if not out.cache:
        options["cache"] = False
    if out.persist:
        options["persist"] = True
    return {out.path: options} if options else out.path


def _dvcfile(project: Project) -> str:
    here = os.path.relpath(os.getcwd(), project.root).replace(os.sep, "/")
    if here.startswith(".."):
        raise SpecError("run 'stage add' inside the project")
    return posixpath.normpath(posixpath.join(here, "dvc.yaml"))


def _check(project: Project, relpath: str, spec: StageSpec) -> None:
    if not spec.name or _INVALID_NAME_CHARS & set(spec.name):
        raise SpecError(
            f"invalid stage name '{spec.name}': punctuation other than '_' and '-' is not allowed"
        )
    if not spec.command:
        raise SpecError("give the stage's command after its options")
    base = posixpath.join(posixpath.dirname(relpath), spec.wdir or ".")
    if spec.wdir and not os.path.isdir(os.path.join(project.root, base)):
        raise SpecError(f"stage working dir '{spec.wdir}' does not exist")
    paths = [*spec.deps, *(o.path for o in spec.outs)]
    seen: set[str] = set()
    for path in paths:
        joined = posixpath.normpath(posixpath.join(base, path))
        if joined in seen:
            raise SpecError(f"'{path}' is specified more than once")
        seen.add(joined)
        if joined.startswith("../") and any(o.path == path and o.cache for o in spec.outs):
            raise SpecError(f"cached output '{path}' is outside the project")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _restore(path: str, before: str | None) -> None:
    if before is None:
        os.remove(path)
    else:
        atomic_write_text(path, before)


def _ignore_outputs(project: Project, relpath: str, spec: StageSpec) -> list[str]:
    base = posixpath.join(posixpath.dirname(relpath), spec.wdir or ".")
    ignored = []
    for out in spec.outs:
        if out.cache:
            target = posixpath.normpath(posixpath.join(base, out.path))
            if ignore_output(project.root, target):
                ignored.append(posixpath.join(posixpath.dirname(target), ".gitignore"))
    return ignored
