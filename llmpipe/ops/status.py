"""`status`: why each stage (targets and their upstream) would run; nothing is written.

Apart from `repro` (ops/repro.py), so that a `status` loads neither the audit trail
nor the options of a run: it is read-only, and not audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..graph import build_graph, resolve_targets, select
from ..hydra import hydra_enabled
from ..run.context import run_context
from ..run.status import Reason, StatusEntry, statuses
from ..spec import names_dvcyaml

if TYPE_CHECKING:
    from ..hydra.compose import Composition
    from ..progress import Progress
    from ..project import Project
    from ..stage import Stage


def status(
    project: Project, targets: Sequence[str] = (), progress: Progress | None = None
) -> list[StatusEntry]:
    """Per stage (targets and their upstream), why it would run; empty reasons: up to date.

    With Hydra enabled, params.yaml is composed as `repro` would compose it (nothing
    is written) and the stages are judged against that, so the two never disagree.
    A params.yaml edited by hand, which `repro` would refuse to overwrite, is judged
    as it is, with a notice saying so.
    """
    composition = _composition_for_status(project)
    composed = composition is not None and composition.changes and not composition.hand_edited
    stages = _stages_with_params(project.root, composition) if composed else project.stages()
    graph = build_graph(stages)
    addresses = resolve_targets(graph, targets, names_dvcyaml(project.root))
    if targets and not addresses:
        return []  # a dvc.yaml without stages: nothing to report, as in dvc
    order = select(graph, addresses)
    ctx = run_context(project, progress)
    if not composed:
        return statuses(ctx, graph.stages, order)
    from ..spec.params import parse_params

    ctx.use_params(composition.relpath, parse_params(composition.after, composition.relpath))
    entries = statuses(ctx, graph.stages, order)
    return [_with_params_dep(entry, graph.stages[entry.address], composition) for entry in entries]


def _composition_for_status(project: Project) -> Composition | None:
    if not hydra_enabled(project.config):
        return None
    from ..hydra.compose import compose_params

    composition = compose_params(project.root, project.config, ())
    if composition is not None and composition.hand_edited:
        project.notices.append(
            f"{composition.relpath} was edited by hand since llmpipe last composed it: "
            "'llmpipe repro' will refuse to overwrite it (see 'llmpipe repro --force'); "
            "the stages are judged by the file as it is"
        )
    return composition


def _stages_with_params(root: str, composition: Composition) -> list[Stage]:
    """The stages as they load once params.yaml holds the composed text (`${…}` included)."""
    from ..spec import discover_dvcfiles, load_file_stages

    tree = _WithFile(root, composition.relpath, composition.after.encode("utf-8"))
    return [stage for rel in discover_dvcfiles(root) for stage in load_file_stages(tree, rel)]


class _WithFile:
    """The working directory, with one file's content replaced (nothing is written)."""

    commit = None

    def __init__(self, root: str, relpath: str, content: bytes) -> None:
        from ..revfs import WorkTree

        self.tree, self.relpath, self.content = WorkTree(root), relpath, content

    def exists(self, relpath: str) -> bool:
        return relpath == self.relpath or self.tree.exists(relpath)

    def read_bytes(self, relpath: str) -> bytes | None:
        return self.content if relpath == self.relpath else self.tree.read_bytes(relpath)


def _with_params_dep(entry: StatusEntry, stage: Stage, composition: Composition) -> StatusEntry:
    """A stage with params.yaml as a file dep changes when composition rewrites it."""
    if entry.frozen or stage.is_data_source:
        return entry
    if not any(stage.repo_path(dep.path) == composition.relpath for dep in stage.deps):
        return entry
    reason = Reason("dep-modified", composition.relpath)
    if reason in entry.reasons:
        return entry
    return replace(entry, reasons=(*entry.reasons, reason))
