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
    from ..ckpt.records import CheckpointRecord, RunState
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


def local_checkpoints(project: Project, target: str) -> tuple[str, list[CheckpointRecord]]:
    """Stage `target`'s address and the checkpoint records in the local lineage store:
    pushed from here, or fetched (`lineage.checkpoints`); no remote is contacted."""
    from ..ckpt.catalog import stage_spec
    from ..ckpt.records import CheckpointRecord
    from ..ckpt.session import local_log

    stage = _stage(project, target)
    stage_spec(stage)
    rows = local_log(project).read(stage.address)
    return stage.address, [CheckpointRecord.from_dict(row) for row in rows]


def show_checkpoint(
    project: Project, target: str, wanted: str, local: bool = False
) -> tuple[CheckpointRecord, RunState | None, bool | None]:
    """Checkpoint `wanted` of stage `target`, its run (when the remote has it) and whether
    it is on the remote (None: not asked). The local lineage store answers for one the
    remote no longer has (or alone, with `local`). CheckpointError when neither has it."""
    from ..ckpt.session import find_checkpoint
    from ..errors import CheckpointError

    if not local:
        catalog = checkpoint_catalog(project, target)
        try:
            record = find_checkpoint(list(catalog.checkpoints), wanted)
            return record, catalog.run_of(record), True
        except CheckpointError:
            pass
    _address, records = local_checkpoints(project, target)
    return find_checkpoint(records, wanted), None, None if local else False


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
