"""Read a stage's checkpoint records from its remote, and restore one into the workspace."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CheckpointError
from ..stage import HashInfo, Stage
from .records import CheckpointRecord, RecordStore, RunState
from .session import find_checkpoint
from .spec import CheckpointSpec, checkpoint_spec

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from ..project import Project
    from ..remote.layout import Layout


@dataclass(frozen=True)
class Catalog:
    """Every run and checkpoint record of one stage on its remote."""

    stage: str
    remote: str
    runs: tuple[RunState, ...]
    checkpoints: tuple[CheckpointRecord, ...]

    def run_of(self, record: CheckpointRecord) -> RunState | None:
        return next((r for r in self.runs if r.run_id == record.run_id), None)


def stage_spec(stage: Stage) -> CheckpointSpec:
    spec = checkpoint_spec(stage)
    if spec is None:
        raise CheckpointError(
            f"stage '{stage.address}' declares no checkpoints "
            "(meta: {llmpipe: {checkpoints: DIR}} in its dvc.yaml; see docs/checkpoints.md)"
        )
    return spec


def checkpoint_remote(project: Project, stage: Stage, default: str | None = None) -> RemoteConfig:
    """The remote the stage's checkpoints stream to (its output's own, else `default`,
    else the project's default remote)."""
    spec = stage_spec(stage)
    out = next(o for o in stage.outs if o.path == spec.path)
    return project.config.remote(out.remote or default)


@contextlib.contextmanager
def _opened(project: Project, remote: RemoteConfig) -> Iterator[Layout]:
    from ..remote.ops import open_layout

    layout = open_layout(project, remote, create=False)
    try:
        yield layout
    finally:
        layout.backend.close()


def read_catalog(project: Project, stage: Stage, default: str | None = None) -> Catalog:
    remote = checkpoint_remote(project, stage, default)
    with _opened(project, remote) as layout:
        runs, checkpoints = RecordStore(layout, stage.address).load()
    return Catalog(stage.address, remote.name, tuple(runs), tuple(checkpoints))


def copy_lineage(project: Project, stage: Stage, default: str | None = None) -> int:
    """Add the stage's checkpoint records on its remote that the project's lineage store
    lacks (`lineage.checkpoints`); how many were added."""
    from .session import lineage_row, local_log

    catalog = read_catalog(project, stage, default)
    log = local_log(project)
    known = log.ids(stage.address)
    new = [lineage_row(r, catalog.remote) for r in catalog.checkpoints if r.id not in known]
    log.append(new)
    return len(new)


def restore(project: Project, stage: Stage, wanted: str) -> CheckpointRecord:
    """Make the stage's checkpoint directory hold checkpoint `wanted` exactly (verified)."""
    from .restore import restore_tree

    spec = stage_spec(stage)
    remote = checkpoint_remote(project, stage)
    with _opened(project, remote) as layout:
        _runs, records = RecordStore(layout, stage.address).load()
        record = find_checkpoint(records, wanted)
        info = HashInfo(project.odb.hash_name, record.tree, record.size, record.nfiles)
        directory = os.path.join(project.root, stage.repo_path(spec.path))
        scratch = os.path.join(project.tmp_dir, "remote")
        restore_tree(project, layout, remote, info, directory, scratch)
    return record
