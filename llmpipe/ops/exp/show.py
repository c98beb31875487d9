"""`exp show`: the workspace, each baseline and its experiments, in dvc's shape.

The values are those `metrics show` and `params show` read (`compare`), with
each revision's deps and outs as its lock files record them. `to_json` gives
exactly what `dvc exp show --json` prints: a list of states, the workspace
first, then each baseline with its experiments newest first, so either tool
reads the other's experiments and the two outputs compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ... import scm
from ...compare.collect import Comparison
from ...compare.revisions import WORKSPACE, Revision, resolve
from ...errors import LlmpipeError
from ...lockfile import hashes_in, read_lock
from ...spec import read_dvcfile_hashes
from .refs import NAMESPACE, ExpRef, experiments_in
from .showmemo import Entry, ShowMemo

if TYPE_CHECKING:
    from ...compare.formats import Fetch
    from ...project import Project
    from ...revfs import GitObjects, Tree
    from ...stage import HashInfo, Stage


@dataclass(frozen=True)
class ShowRequest:
    revs: tuple[str, ...] = ()
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    num: int = 1  # commits to show back from each revision
    hide_workspace: bool = False
    param_deps: bool = False  # only params that stages depend on
    force: bool = False  # read every commit again, not from the memo (which is refreshed)
    sha_only: bool = False  # baselines unnamed: shown by commit, as dvc's --sha


@dataclass
class ExpData:
    """dvc's `SerializableExp`: what one revision holds. Values are dvc's JSON shapes."""

    rev: str
    timestamp: datetime | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    deps: dict[str, Any]
    outs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "params": self.params,
            "metrics": self.metrics,
            "deps": self.deps,
            "outs": self.outs,
            "meta": {},
        }


@dataclass
class ExpState:
    """A row: the workspace, a baseline (with `experiments`) or an experiment commit."""

    rev: str
    name: str | None = None
    data: ExpData | None = None
    error: dict[str, str] | None = None
    experiments: list[ExpRange] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rev": self.rev,
            "name": self.name,
            "data": self.data.to_json() if self.data else None,
            "error": self.error,
            "experiments": [e.to_json() for e in self.experiments] if self.experiments else None,
        }


@dataclass
class ExpRange:
    """One experiment: its commits from the tip back to the baseline (usually one)."""

    revs: list[ExpState]
    name: str | None = None
    ref: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"revs": [r.to_json() for r in self.revs], "executor": None, "name": self.name}


def show(project: Project, request: ShowRequest, fetch: Fetch | None = None) -> list[ExpState]:
    """The states `dvc exp show` lists for `request`. Unreadable revisions and files are
    values (`error`), never left out. RevisionError for a revision git cannot resolve."""
    memo = ShowMemo(project.llmpipe_dir, request.param_deps)
    with Comparison(project.root, project.odb, fetch) as comparison:
        return _Collector(comparison, request, memo).collect()


class _Collector:
    def __init__(self, comparison: Comparison, request: ShowRequest, memo: ShowMemo) -> None:
        self.comparison, self.request, self.memo = comparison, request, memo
        self.objects: GitObjects = comparison.objects
        self.root = comparison.root
        self._commits: dict[str, tuple[list[str], int]] = {}
        self._kept: dict[str, Entry] = {}  # commits whose values the memo held
        # Every ref the command reads, from one git run.
        self._refs = scm.ref_listing(self.root, ("refs/heads", "refs/tags", NAMESPACE))

    def collect(self) -> list[ExpState]:
        if scm.head_commit(self.root) is None:
            return []  # dvc shows nothing in a repository without commits
        baselines = self._baselines()
        names = {} if self.request.sha_only else describe_baselines(
            self.root, baselines, self._refs)  # fmt: skip
        by_baseline: dict[str, list[ExpRef]] = {}
        for exp in experiments_in((full, sha) for full, _, sha in self._refs):
            if exp.baseline in baselines:
                by_baseline.setdefault(exp.baseline, []).append(exp)
        self._prefetch(baselines + [e.commit for exps in by_baseline.values() for e in exps])
        states = [] if self.request.hide_workspace else [self._state(WORKSPACE, None)]
        for sha in baselines:
            state = self._state(sha, sha)
            state.name = names.get(sha)
            ranges = [self._range(exp, sha) for exp in by_baseline.get(sha, [])]
            state.experiments = sorted(ranges, key=self._newest, reverse=True) or None
            states.append(state)
        return states

    def _prefetch(self, commits: list[str]) -> None:
        """Read what every revision needs in a few requests to git, not a few per revision:
        the commits, their trees, then the files the first revision's pipeline reads.
        Commits whose values the memo holds need nothing from git."""
        commits = [sha for sha in commits if not self._recall(sha)]
        for sha, content in self.objects.commits(commits).items():
            self._commits[sha] = _parse_commit(content)
        trees = [self.comparison.tree(Revision(sha, sha)) for sha in commits]
        self.objects.prefetch_trees(self.objects.tree_of(sha) for sha in commits)
        if not trees:
            return
        pipeline = self.comparison.pipeline(Revision(commits[0], commits[0]))
        paths = {*pipeline.dvcyamls, *pipeline.metrics, *(p.path for p in pipeline.params)}
        paths.update(stage.lockfile for stage in pipeline.stages)
        self.objects.prefetch(oid for tree in trees for p in paths if (oid := tree.oid(p)))

    def _baselines(self) -> list[str]:
        """Baseline commits in dvc's order: named revisions (and `num` back), branches, tags."""
        request = self.request
        named = request.revs or (() if self._any() else ("HEAD",))
        found = self._with_ancestors([self._resolve(rev) for rev in named])
        if request.all_commits:
            found += scm.all_commits(self.root)
        else:
            if request.all_branches:
                # The listing's sha is what its (unambiguous) short name resolves to.
                branches = [sha for full, _, sha in self._refs if full.startswith("refs/heads/")]
                found += self._with_ancestors(branches)
            if request.all_tags:
                found += [sha for full, _, sha in self._refs if full.startswith("refs/tags/")]
        return list(dict.fromkeys(found))

    def _resolve(self, rev: str) -> str:
        head = scm.head_commit(self.root) if rev == "HEAD" else None  # no git process
        return head or resolve(self.root, self.objects, rev)

    def _any(self) -> bool:
        r = self.request
        return bool(r.revs) or r.all_branches or r.all_tags or r.all_commits

    def _with_ancestors(self, commits: list[str]) -> list[str]:
        found = []
        for sha in commits:
            for _ in range(max(self.request.num, 1)):
                if sha is None:
                    break
                found.append(sha)
                parents = self._commit(sha)[0]
                sha = parents[0] if parents else None
        return found

    def _range(self, exp: ExpRef, baseline: str) -> ExpRange:
        revs, sha, seen = [], exp.commit, 0
        while sha and sha != baseline and seen < _MAX_EXP_COMMITS:
            revs.append(self._state(sha, sha))
            parents = self._commit(sha)[0]
            sha, seen = (parents[0] if parents else ""), seen + 1
        if revs:
            revs[0].name = exp.name
        return ExpRange(revs, exp.name, exp.ref)

    @staticmethod
    def _newest(exp_range: ExpRange) -> tuple[str, str]:
        head = exp_range.revs[0] if exp_range.revs else None
        if head is None or head.data is None or head.data.timestamp is None:
            return "", ""
        return head.data.timestamp.isoformat(), head.rev

    def _commit(self, sha: str) -> tuple[list[str], int]:
        """(parents, committer time) of commit `sha`."""
        if sha not in self._commits and not self._recall(sha):
            found = self.objects.read(sha)
            if found is None or found[1] != "commit":
                raise LlmpipeError(f"cannot read commit {sha[:10]}")
            self._commits[sha] = _parse_commit(found[2])
        return self._commits[sha]

    def _recall(self, sha: str) -> bool:
        """Whether the memo holds `sha` (then its commit facts are known too)."""
        if self.request.force:
            return False
        if sha not in self._kept and sha not in self._commits:
            entry = self.memo.recall(sha)
            if entry is not None:
                self._kept[sha] = entry
                self._commits[sha] = entry[0], entry[1]
        return sha in self._kept

    def _state(self, rev: str, commit: str | None) -> ExpState:
        if commit is not None and commit in self._kept:
            params, metrics, deps, outs = self._kept[commit][2]
            return ExpState(rev, data=ExpData(rev, _local_time(self._commit(commit)[1]),
                                              params, metrics, deps, outs))  # fmt: skip
        revision = Revision(rev, commit)
        try:
            pipeline = self.comparison.pipeline(revision)
            if pipeline.error:
                raise LlmpipeError(pipeline.error)
            when = None if commit is None else _local_time(self._commit(commit)[1])
            metrics = self.comparison.metrics(revision)
            params = self.comparison.params(revision, deps_only=self.request.param_deps)
            deps, outs = _deps_and_outs(self.comparison.tree(revision), pipeline.stages)
            data = ExpData(
                rev=rev,
                timestamp=when,
                params={p: v.to_json() for p, v in params.files.items()},
                metrics={p: v.to_json() for p, v in metrics.files.items()},
                deps=deps,
                outs=outs,
            )
        except LlmpipeError as exc:
            return ExpState(rev, error={"msg": str(exc), "type": type(exc).__name__})
        if commit is not None and not any(f.error for f in (*params.files.values(),
                                                            *metrics.files.values())):  # fmt: skip
            parents, time = self._commit(commit)
            self.memo.remember(commit, (parents, time, (data.params, data.metrics, deps, outs)))
        return ExpState(rev, data=data)


_MAX_EXP_COMMITS = 1000  # an experiment is a few commits; never walk a whole history


def _local_time(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp)  # noqa: DTZ006 - dvc shows local time


def _parse_commit(content: bytes) -> tuple[list[str], int]:
    parents, when = [], 0
    for line in content.split(b"\n"):
        if not line:
            break  # the message follows the headers
        if line.startswith(b"parent "):
            parents.append(line[7:].decode())
        elif line.startswith(b"committer "):
            when = int(line.rsplit(b" ", 2)[1])
    return parents, when


def describe_baselines(
    root: str, shas: list[str], refs: list[tuple[str, str, str]] | None = None
) -> dict[str, str | None]:
    """dvc's names of baselines: the checked-out branch for HEAD, else a tag, else a branch.

    `refs` is `scm.ref_listing` of at least refs/heads and refs/tags (default: read it)."""
    head, branch = scm.head_commit(root), scm.current_branch(root)
    if refs is None:
        refs = scm.ref_listing(root, ("refs/heads", "refs/tags"))
    tags: dict[str, str] = {}
    branches: dict[str, str] = {}
    for full, name, sha in refs:
        if full.startswith("refs/tags/"):
            tags.setdefault(sha, name)
        elif full.startswith("refs/heads/"):
            branches.setdefault(sha, name)
    return {
        sha: branch if sha == head and branch else tags.get(sha) or branches.get(sha)
        for sha in shas
    }


def _deps_and_outs(tree: Tree, stages: tuple[Stage, ...]) -> tuple[dict, dict]:
    """dvc's `deps` (file deps) and `outs` (all but metrics and plots) of a revision, each
    with the hash its lock (or `.dvc` file) records; every lock file is parsed once."""
    locks: dict[str, dict[str, Any]] = {}
    deps: dict[str, Any] = {}
    outs: dict[str, Any] = {}
    for stage in stages:
        if stage.is_data_source:
            recorded_outs, recorded_deps = read_dvcfile_hashes(tree, stage.dvcfile), {}
        else:
            if stage.lockfile not in locks:
                locks[stage.lockfile] = read_lock(tree, stage.lockfile)
            entry = locks[stage.lockfile].get(stage.name) or {}
            recorded_outs, recorded_deps = hashes_in(entry, "outs"), hashes_in(entry, "deps")
        for dep in stage.deps if not stage.is_data_source else ():
            deps[stage.repo_path(dep.path)] = _hash_fields(recorded_deps.get(dep.path))
        for out in stage.outs:
            if out.kind not in ("metric", "plot"):
                fields = _hash_fields(recorded_outs.get(out.path))
                fields.update(use_cache=out.cache, is_data_source=stage.is_data_source)
                outs[stage.repo_path(out.path)] = fields
    return deps, outs


def _hash_fields(info: HashInfo | None) -> dict[str, Any]:
    if info is None:
        return {"hash": None, "size": None, "nfiles": None}
    return {"hash": info.value, "size": info.size, "nfiles": info.nfiles}
