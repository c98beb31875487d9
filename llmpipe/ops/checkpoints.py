"""`checkpoints list/show/restore`: a stage's checkpoints on its remote.

Reading needs the `pull` right (and `decrypt` on an encrypted remote); `restore`
also holds the repository lock and is audited with the folder it replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import TargetError
from ..graph import build_graph, resolve_targets
from ..run.repolock import repo_lock
from ..spec import names_dvcyaml
from .audit import Outcome, Targets, audited
from .transfer import require_transfer_rights

if TYPE_CHECKING:
    from ..ckpt.catalog import Catalog
    from ..ckpt.records import CheckpointRecord
    from ..project import Project
    from ..stage import Stage


def _stage(project: Project, target: str) -> Stage:
    graph = build_graph(project.stages())
    addresses = resolve_targets(graph, [target], names_dvcyaml(project.root))
    if len(addresses) != 1:
        raise TargetError(f"'{target}' names {len(addresses)} stages; name exactly one")
    return graph.stages[addresses[0]]


def _readable(project: Project, stage: Stage) -> None:
    from ..ckpt.catalog import checkpoint_remote

    require_transfer_rights(project, [checkpoint_remote(project, stage)], upload=False)


def checkpoint_catalog(project: Project, target: str) -> Catalog:
    """Every run and checkpoint record of stage `target` on its remote."""
    from ..ckpt.catalog import read_catalog

    stage = _stage(project, target)
    _readable(project, stage)
    return read_catalog(project, stage)


def describe_restore(record: CheckpointRecord) -> tuple[Targets, Outcome]:
    return [{"path": record.stage, "hash": record.tree, "checkpoint": record.id}], Outcome()


@audited("checkpoints restore", describe=describe_restore)
def restore_checkpoint(project: Project, target: str, checkpoint: str) -> CheckpointRecord:
    """Replace stage `target`'s checkpoint directory with pushed checkpoint `checkpoint`."""
    from ..ckpt.catalog import restore

    with repo_lock(project.tmp_dir):
        stage = _stage(project, target)
        _readable(project, stage)
        return restore(project, stage, checkpoint)
