"""Which cache objects the project uses: outputs recorded in dvc.lock and .dvc files.

`used_outputs` reads the workspace (or, with `all_branches`, every local
branch from git's objects), keeping each output's `remote:` and `push:`
options. `expand` turns outputs into object ids: a directory brings its `.dir`
object and every entry of its manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CacheError, LlmpipeError
from ..lockfile import hashes_in, read_lock
from ..stage import HashInfo, Stage

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..project import Project as Repo


@dataclass(frozen=True)
class UsedOutput:
    """A cached output with its recorded hash and its per-output remote options."""

    path: str
    info: HashInfo
    remote: str | None = None
    push: bool = True


def used_outputs(
    repo: Repo, targets: Sequence[str] = (), all_branches: bool = False
) -> list[UsedOutput]:
    """Outputs of `targets` (default: every stage) in the workspace, plus other branches."""
    from ..graph import build_graph, resolve_targets

    stages = repo.stages()
    if targets:
        graph = build_graph(stages)
        stages = [graph.stages[a] for a in resolve_targets(graph, targets)]
    found = list(_workspace_outputs(repo, stages))
    if all_branches:
        found.extend(_branch_outputs(repo.root))
    return found


def _workspace_outputs(repo: Repo, stages: Iterable[Stage]) -> Iterable[UsedOutput]:
    from ..spec import read_dvcfile_hash

    locks: dict[str, dict] = {}
    for stage in stages:
        if stage.is_data_source:
            out = stage.outs[0]
            info = read_dvcfile_hash(repo.root, stage.dvcfile)
            if info is not None and out.cache:
                yield UsedOutput(stage.repo_path(out.path), info, out.remote, out.push)
            continue
        if stage.lockfile not in locks:
            locks[stage.lockfile] = read_lock(repo.root, stage.lockfile)
        recorded = hashes_in(locks[stage.lockfile].get(stage.name) or {}, "outs")
        for out in stage.cached_outs:
            if out.path in recorded:
                path = stage.repo_path(out.path)
                yield UsedOutput(path, recorded[out.path], out.remote, out.push)


def _branch_outputs(root: str) -> Iterable[UsedOutput]:
    """Outputs recorded on every local branch (read from git objects, no checkout)."""
    from .. import scm
    from ..revfs import GitObjects, RevTree
    from ..yamlio import load_yaml

    top, prefix = scm.git_root(root), scm.prefix_in_work_tree(root)
    if top is None or prefix is None:
        raise LlmpipeError(f"'{root}' is not inside a git repository: -A reads git branches")
    with GitObjects(top) as objects:
        for _, commit in scm.list_refs(top, "refs/heads"):
            tree = RevTree(objects, commit, prefix)
            for path in tree.paths():
                if not (path.endswith(".dvc") or path.rsplit("/", 1)[-1] == "dvc.lock"):
                    continue
                text = (tree.read_bytes(path) or b"").decode("utf-8")
                yield from _outputs_in(path, load_yaml(text, f"{commit[:8]}:{path}"))


def _outputs_in(path: str, data: object) -> Iterable[UsedOutput]:
    if not isinstance(data, dict):
        return
    if path.endswith(".dvc"):
        entries = [{"outs": data.get("outs") or []}]
    else:
        entries = [e for e in (data.get("stages") or {}).values() if isinstance(e, dict)]
    for entry in entries:
        for out_path, info in hashes_in(entry, "outs").items():
            yield UsedOutput(out_path, info)


def expand(odb: ObjectDB, info: HashInfo) -> list[str]:
    """Object ids of an output: the file's, or the `.dir` and its entries (if readable)."""
    if not info.isdir:
        return [info.value]
    try:
        entries = odb.read_manifest(info.value)
    except CacheError:
        return [info.value]
    return [info.value, *(oid for _, oid in entries)]
