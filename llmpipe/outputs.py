"""Which outputs the project uses: what its dvc.lock and `.dvc` files record.

One reader for the workspace and for any commit. Stages come from the spec
loader and recorded hashes from the lock (or `.dvc`) files, both read through
a `revfs` tree, so a commit is read from git objects without a checkout, and
an output keeps its dvc.yaml options (`cache`, `remote`, `push`) at every
revision. Over many commits each distinct file is parsed once (`TreeMemo`).

Whatever cannot be read at a commit (a file git lacks, a lock or dvc.yaml that
does not parse) is an error naming the commit: a commit is never taken to use
no outputs because its files could not be read.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .errors import LlmpipeError, RevisionError, SpecError
from .lockfile import LockEntry, hashes_in, read_lock
from .revfs import FileTree, GitObjects, RevTree, TreeMemo, git_location, read_text
from .spec import dvcfiles_at, load_dvcyaml, read_dvcfile, read_dvcfile_hashes
from .stage import HashInfo, Stage

_PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class UsedOutput:
    """An output with its recorded hash and the options transfers follow."""

    path: str  # repository-relative posix path
    info: HashInfo
    cache: bool = True
    remote: str | None = None  # the remote dvc.yaml names for it, if any
    push: bool = True


def recorded_outputs(tree: str | FileTree, stages: Iterable[Stage]) -> list[UsedOutput]:
    """Every output of `stages` whose hash is recorded in `tree` (cached or not).

    `tree` is the project folder or a commit's tree. Outputs come in stage
    order; one never run has no recorded hash and is left out. Raises
    SpecError when a lock or `.dvc` file does not parse.
    """
    locks: dict[str, dict[str, LockEntry]] = {}
    found = []
    for stage in stages:
        if stage.is_data_source:
            recorded = read_dvcfile_hashes(tree, stage.dvcfile)
        else:
            if stage.lockfile not in locks:
                locks[stage.lockfile] = read_lock(tree, stage.lockfile)
            recorded = _entry_hashes(locks[stage.lockfile], stage)
        found.extend(_outputs(stage, recorded))
    return found


def _entry_hashes(lock: dict[str, LockEntry], stage: Stage) -> dict[str, HashInfo]:
    """{out path as written: hash} of the stage's entry in its parsed dvc.lock."""
    entry = lock.get(stage.name) or {}
    if not isinstance(entry, dict):
        raise SpecError(
            f"{stage.lockfile}: the entry of stage '{stage.name}' is not a mapping;"
            " delete it and run 'llmpipe repro'"
        )
    return hashes_in(entry, "outs")


def _outputs(stage: Stage, recorded: dict[str, HashInfo]) -> Iterator[UsedOutput]:
    for out in stage.outs:
        info = recorded.get(out.path)
        if info is not None:
            yield UsedOutput(stage.repo_path(out.path), info, out.cache, out.remote, out.push)


def workspace_outputs(root: str, stages: Iterable[Stage]) -> list[UsedOutput]:
    """The cached outputs of `stages` as the project folder `root` records them."""
    return [out for out in recorded_outputs(root, stages) if out.cache]


def revision_outputs(root: str, commits: Iterable[str]) -> list[UsedOutput]:
    """The cached outputs every stage of the project records at each of `commits`.

    `root` is the project folder (possibly below the top of the git work tree).
    Each distinct output once, in commit order. RevisionError outside git or
    when something a commit records cannot be read.
    """
    git_root, prefix = git_location(root)
    found = _CommitOutputs()
    with GitObjects(git_root) as objects:
        for commit in dict.fromkeys(commits):
            try:
                found.add(RevTree(objects, commit, prefix))
            except LlmpipeError as exc:
                raise RevisionError(
                    f"cannot tell which outputs commit {commit[:10]} uses: {exc}"
                ) from None
    return list(found.outputs)


class _CommitOutputs:
    """The cached outputs of many commits; each distinct file is read and parsed once.

    Per file the outputs are a tuple that later commits with the same content
    get back as the same object, so adding an unchanged file costs one lookup.
    """

    def __init__(self) -> None:
        self.outputs: dict[UsedOutput, None] = {}
        self._memo = TreeMemo()
        # Results by what they depend on; they keep every tuple alive, so ids stay unique.
        self._dvcfiles: dict[tuple[str, str | None], tuple[UsedOutput, ...]] = {}
        self._pipelines: dict[tuple[int, str | None], tuple[UsedOutput, ...]] = {}
        self._added: set[int] = set()

    def add(self, tree: RevTree) -> None:
        relpaths = dvcfiles_at(tree)
        tree.prefetch(_with_locks(relpaths))  # what changed since other commits: one request
        for relpath in relpaths:
            group = self._in_file(tree, relpath)
            if id(group) not in self._added:
                self._added.add(id(group))
                self.outputs.update(dict.fromkeys(group))

    def _in_file(self, tree: RevTree, relpath: str) -> tuple[UsedOutput, ...]:
        if relpath.endswith(".dvc"):  # its blob says it all
            key = (relpath, tree.oid(relpath))
            if key not in self._dvcfiles:
                self._dvcfiles[key] = _cached_in_dvcfile(tree, relpath)
            return self._dvcfiles[key]
        # Stages and lock apart: a commit that only re-ran the pipeline shares the stages.
        stages = self._memo.get(_pipeline_stages, relpath, tree)
        lockfile = _sibling(relpath, "dvc.lock")
        key = (id(stages), tree.oid(lockfile))
        if key not in self._pipelines:
            lock = read_lock(tree, lockfile)
            self._pipelines[key] = tuple(
                out
                for stage in stages
                for out in _outputs(stage, _entry_hashes(lock, stage))
                if out.cache
            )
        return self._pipelines[key]


def _with_locks(relpaths: list[str]) -> Iterator[str]:
    """`relpaths` and each dvc.yaml's dvc.lock (params.yaml is often not needed)."""
    for relpath in relpaths:
        yield relpath
        if relpath.endswith("dvc.yaml"):
            yield _sibling(relpath, "dvc.lock")


def _sibling(relpath: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(relpath), name)


def _cached_in_dvcfile(tree: FileTree, relpath: str) -> tuple[UsedOutput, ...]:
    stage, recorded = read_dvcfile(tree, relpath)  # one parse for both
    return tuple(out for out in _outputs(stage, recorded) if out.cache)


def _pipeline_stages(tree: FileTree, relpath: str) -> tuple[Stage, ...]:
    """The stages of a dvc.yaml at a commit.

    Without `${…}` in it, params.yaml cannot change them, so it is not read:
    then commits that only change params share one parse.
    """
    text = read_text(tree, relpath) or ""
    params = _sibling(relpath, _PARAMS_FILE)
    return tuple(load_dvcyaml(tree if "${" in text else _Without(tree, params), relpath))


class _Without:
    """`tree` minus one file."""

    def __init__(self, tree: FileTree, hidden: str) -> None:
        self.tree, self.hidden = tree, hidden
        self.commit = tree.commit

    def exists(self, relpath: str) -> bool:
        return relpath != self.hidden and self.tree.exists(relpath)

    def read_bytes(self, relpath: str) -> bytes | None:
        return None if relpath == self.hidden else self.tree.read_bytes(relpath)


def used_outputs(
    root: str, stages: Sequence[Stage], targets: Sequence[str] = (), commits: Sequence[str] = ()
) -> list[UsedOutput]:
    """Cached outputs of `targets` (default: all `stages`) in the workspace at `root`.

    With `commits`, also every output that each of those commits records (all of
    each commit's stages: targets narrow the workspace only).
    """
    from .graph import build_graph, resolve_targets  # networkx: only when targets are given

    if targets:
        graph = build_graph(stages)
        stages = [graph.stages[address] for address in resolve_targets(graph, targets)]
    found = workspace_outputs(root, stages)
    if commits:
        found.extend(revision_outputs(root, commits))
    return found
