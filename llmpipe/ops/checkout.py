"""`checkout`: make the workspace hold the outputs its lock and `.dvc` files record.

As `dvc checkout`: every output is planned before any is written; files whose
content is not in the cache stop the whole checkout unless `force`; outputs are
reported `added` (nothing was there), `modified` (something changed) or, after a
`git checkout` of a revision that lacks them, `deleted`: a checkout of the whole
workspace removes outputs llmpipe put there that no stage names any more, when
they are exactly as llmpipe left them (`cache.linkdb`). Counts of files created,
replaced and removed come with it (`pull`'s summary).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..cache.checkout import CheckoutPlan, apply_checkout, plan_checkout, unsaved_files
from ..errors import TargetError, UnsavedChangesError
from ..fsutil import remove
from ..graph import Graph, build_graph, resolve_targets
from ..outputs import UsedOutput, workspace_outputs
from ..pathguard import PathGuard
from ..run.repolock import repo_lock
from ..stage import HashInfo, Stage
from .audit import Outcome, Targets, audited
from .targets import repo_relpath, stages_inside

if TYPE_CHECKING:
    from ..project import Project


@dataclass(frozen=True)
class CheckoutSummary:
    """What a checkout did, output by output, in dvc's order (folders first, with a "/").

    `changed`: every output whose content changed (`modified` then `added`);
    `files`: how many files were (modified, added, deleted), as dvc counts them.
    """

    changed: tuple[str, ...]
    missing: tuple[str, ...]
    untracked: tuple[str, ...]  # outputs with no recorded hash yet (never run)
    hashes: tuple[tuple[str, str], ...] = ()  # (path, hash) of each changed output
    modified: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    files: tuple[int, int, int] = (0, 0, 0)


def describe_checkout(summary: CheckoutSummary) -> tuple[Targets, Outcome]:
    targets: Targets = [{"path": path, "hash": value} for path, value in summary.hashes]
    targets += [{"path": path.rstrip("/"), "hash": None} for path in summary.deleted]
    if summary.missing:
        missing = ", ".join(summary.missing)
        return targets, Outcome("failed", 1, f"missing from the cache: {missing}")
    return targets, Outcome()


@audited("checkout", describe=describe_checkout)
def checkout(
    project: Project,
    targets: Sequence[str] = (),
    relink: bool = False,
    force: bool = False,
    with_deps: bool = False,
    recursive: bool = False,
) -> CheckoutSummary:
    """Make the workspace match the recorded outputs of the targets (default: all), with
    their upstream stages' (`with_deps`); with `recursive`, a folder target names the
    stages of the dvc files below it.

    Every output is planned before any is written. Without `force`, workspace
    files that would be deleted or overwritten while their content is not in the
    cache stop the whole checkout (UnsavedChangesError), as in `dvc checkout`.
    """
    with repo_lock(project.tmp_dir):
        return checkout_locked(project, targets, relink=relink, force=force,
                               with_deps=with_deps, recursive=recursive)  # fmt: skip


def checkout_locked(
    project: Project,
    targets: Sequence[str] = (),
    relink: bool = False,
    force: bool = False,
    link_types: Sequence[str] | None = None,
    extra: Sequence[tuple[str, HashInfo]] = (),
    with_deps: bool = False,
    recursive: bool = False,
) -> CheckoutSummary:
    """`checkout` for a caller that holds the repository lock (`pull`, a sweep job's copy).

    `link_types` replaces the project's `cache.type` for this checkout; `extra`
    (path, hash) are outputs to check out that no file records (`pull` of an
    import-url made with `--no-download`).
    """
    graph = build_graph(project.stages())
    stages, chosen = chosen_outputs(project, graph, targets, with_deps, recursive)
    chosen += [(path, info, None) for path, info in extra]
    recorded = [(path, info) for path, info, _ in chosen]
    guard = PathGuard(project.root)
    plans = [_plan(project, guard, path, info, relink, only) for path, info, only in chosen]
    if not force:
        _refuse_unsaved(project, plans)
    # Only a checkout of everything knows that no stage names an output any more.
    unused = [] if targets else project.links.unused(_declared(graph.stages.values()))
    report = _Report()
    report.deleted(_remove_unused(project, guard, unused))
    for (path, info), plan in zip(recorded, plans, strict=True):
        links = link_types or project.config.link_types
        result = apply_checkout(plan, project.odb, links, project.state, guard)
        report.output(path, info.value, plan)
        report.missing.extend(_relative(project, p) for p in result.missing)
    project.links.record(report.touched)
    return report.summary(_never_recorded(stages, {path for path, _ in recorded}))


# An output to check out: its path, its recorded hash, and the path inside it to limit
# the checkout to (None: all of it).
_Chosen = tuple[str, HashInfo, str | None]


def chosen_outputs(
    project: Project,
    graph: Graph,
    targets: Sequence[str],
    with_deps: bool = False,
    recursive: bool = False,
) -> tuple[list[Stage], list[_Chosen]]:
    """The stages the targets name (with their upstream: `with_deps`; a folder names the
    stages of the dvc files below it: `recursive`) and the outputs to check out (all
    without targets).

    As in dvc, a target that names no stage or dvc file may name a recorded output, or
    a path inside a recorded folder: then only that path of the folder is checked out.
    """
    addresses: list[str] = []
    paths: list[tuple[str, TargetError]] = []
    for target in targets:
        try:
            found = _stages_named(project, graph, target, recursive)
        except TargetError as exc:
            paths.append((target, exc))
            continue
        addresses += [a for a in found if a not in addresses]
    if with_deps and addresses:
        addresses = graph.order(set(addresses).union(*map(graph.upstream, addresses)))
    stages = [graph.stages[a] for a in addresses] if targets else list(graph.stages.values())
    chosen = [(o.path, o.info, None) for o in workspace_outputs(project.root, stages)]
    if paths:
        every = workspace_outputs(project.root, graph.stages.values())
        for target, error in paths:
            found = _output_holding(every, repo_relpath(project, target))
            if found is None:
                raise error
            if found not in chosen:
                chosen.append(found)
    return stages, chosen


def _stages_named(project: Project, graph: Graph, target: str, recursive: bool) -> list[str]:
    if recursive and os.path.isdir(target):  # dvc tries this first
        return stages_inside(project, graph, target)
    return resolve_targets(graph, [target])


def _output_holding(outputs: Sequence[UsedOutput], relpath: str) -> _Chosen | None:
    for out in outputs:
        if relpath == out.path:
            return out.path, out.info, None
        if out.info.isdir and relpath.startswith(out.path + "/"):
            return out.path, out.info, relpath[len(out.path) + 1 :]
    return None


def _plan(
    project: Project, guard: PathGuard, path: str, info: HashInfo, relink: bool, only: str | None
) -> CheckoutPlan:
    return plan_checkout(
        project.odb,
        info,
        os.path.join(project.root, path),
        project.state,
        guard,
        relink=relink,
        ignore=project.ignore,
        only=only,
    )


class _Report:
    """Collects what a checkout did, for `CheckoutSummary`."""

    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {"modified": [], "added": [], "deleted": []}
        self.counts = {"modified": 0, "added": 0, "deleted": 0}
        self.hashes: list[tuple[str, str]] = []
        self.missing: list[str] = []
        self.touched: list[str] = []  # outputs written (their links are recorded)

    def deleted(self, paths: list[str]) -> None:
        self.lists["deleted"].extend(paths)
        self.counts["deleted"] += len(paths)

    def output(self, path: str, value: str, plan: CheckoutPlan) -> None:
        self.counts["added"] += len(plan.added)
        self.counts["modified"] += len(plan.modified)
        self.counts["deleted"] += len(plan.extra)
        if plan.write or plan.extra or plan.clear:
            self.touched.append(path)
        if plan.kind is not None:
            self.lists[plan.kind].append(path + ("/" if plan.hash_info.isdir else ""))
            self.hashes.append((path, value))

    def summary(self, untracked: list[str]) -> CheckoutSummary:
        # dvc's order: folders first, then files, each alphabetically.
        modified, added, deleted = (
            tuple(sorted(self.lists[kind], key=lambda p: (not p.endswith("/"), p)))
            for kind in ("modified", "added", "deleted")
        )
        counts = (self.counts["modified"], self.counts["added"], self.counts["deleted"])
        return CheckoutSummary(
            modified + added,
            tuple(self.missing),
            tuple(untracked),
            tuple(self.hashes),
            modified,
            added,
            deleted,
            counts,
        )


def _declared(stages: Iterable[Stage]) -> set[str]:
    """Every output path the workspace's stages name (cached or not)."""
    return {stage.repo_path(out.path) for stage in stages for out in stage.outs}


def _remove_unused(project: Project, guard: PathGuard, unused: list[str]) -> list[str]:
    """Remove outputs no stage names any more; their paths as dvc prints them."""
    removed = []
    for relpath in unused:
        path = os.path.join(project.root, relpath)
        guard.check_write(path)
        removed.append(relpath + ("/" if os.path.isdir(path) else ""))
        remove(path)
    project.links.forget(unused)
    return removed


def _refuse_unsaved(project: Project, plans: list[CheckoutPlan]) -> None:
    odb, state = project.odb, project.state
    unsaved = [_relative(project, p) for plan in plans for p in unsaved_files(plan, odb, state)]
    if not unsaved:
        return
    listing = "".join(f"\n\t{path}" for path in unsaved)
    raise UnsavedChangesError(
        f"checkout would delete or overwrite {len(unsaved)} file(s) whose content is not in"
        f" the cache; nothing was changed, these are kept as they are:{listing}\n"
        "Save them first (llmpipe add, or llmpipe repro for stage outputs), or discard them"
        " with --force",
        tuple(unsaved),
    )


def _relative(project: Project, path: str) -> str:
    if not os.path.isabs(path):
        return path
    return os.path.relpath(path, project.root).replace(os.sep, "/")


def _never_recorded(stages: list[Stage], recorded: set[str]) -> list[str]:
    return [
        stage.repo_path(out.path)
        for stage in stages
        for out in stage.cached_outs
        if stage.repo_path(out.path) not in recorded
    ]
