"""The records of checkpoint streams, kept on the remote beside the objects.

On a plain remote, under `llmpipe/checkpoints/<stage>/<run id>/`:

- `run.json`: the run (its input key, state `running`/`finished`/`failed`, host,
  start and end, the checkpoint it resumed from). A run that is not `finished`
  is resumable: its machine died or its command failed.
- `ckpt-<seq>.json`: one per pushed checkpoint, its lineage record: stage, step,
  metrics, run id, parent checkpoint, and the `.dir` hash of the checkpoint
  directory as it stood (every complete checkpoint in it), whose objects were
  pushed before the record was written.

On an encrypted remote the same files live under
`llmpipe-encrypted/checkpoints/<keyed name of the stage>/…`, sealed.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import CheckpointError, CryptoError

if TYPE_CHECKING:
    from ..remote.layout import Layout

PLAIN_PREFIX = "llmpipe/checkpoints"
SEALED_PREFIX = "llmpipe-encrypted/checkpoints"
RUN_FILE = "run.json"
# What a running stream is pushing now: `gc -c` keeps these objects before any record
# names them (written before the upload starts, replaced by the next one).
PENDING_FILE = "pending.json"


@dataclass(frozen=True)
class RunState:
    run_id: str
    stage: str
    key: str  # sha256 of the stage's command, deps and params: equal keys resume
    state: str  # running, finished, failed
    started: str
    ended: str | None = None
    host: str | None = None
    resumed_from: str | None = None


@dataclass(frozen=True)
class CheckpointRecord:
    id: str
    stage: str
    run_id: str
    seq: int
    name: str  # the checkpoint's folder
    step: int | None
    created: str
    tree: str  # `.dir` hash of the checkpoint directory with every complete checkpoint
    size: int
    nfiles: int
    key: str
    parent: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointRecord:
        """A record from its JSON or lineage row (keys it does not know are left out)."""
        return _build(cls, data, str(data.get("id")))


def checkpoint_id(run_id: str, name: str) -> str:
    return f"{run_id[:8]}-{name}"


class RecordStore:
    """The records of one stage on one remote (opened `Layout`)."""

    def __init__(self, layout: Layout, address: str, stage_dir: str | None = None) -> None:
        self.layout = layout
        cipher = layout.cipher
        if stage_dir is None:
            stage_dir = cipher.object_name(f"checkpoints:{address}") if cipher else quote(address)
        self.prefix = f"{root_prefix(layout)}/{stage_dir}"

    @classmethod
    def every_stage(cls, layout: Layout) -> list[RecordStore]:
        """The record stores of every stage with records on the remote (named or not
        in this workspace: an encrypted remote's stage folders are keyed names)."""
        root = root_prefix(layout)
        paths = layout.backend.list_files(root)
        folders = {posixpath.relpath(path, root).split("/")[0] for path in paths}
        return [cls(layout, "", folder) for folder in sorted(folders)]

    def put_run(self, run: RunState) -> None:
        self._put(f"{run.run_id}/{RUN_FILE}", asdict(run))

    def put_checkpoint(self, record: CheckpointRecord) -> None:
        self._put(f"{record.run_id}/ckpt-{record.seq:06d}.json", asdict(record))

    def remove_checkpoint(self, record: CheckpointRecord) -> None:
        self.layout.backend.remove(f"{self.prefix}/{record.run_id}/ckpt-{record.seq:06d}.json")

    def put_pending(self, run_id: str, tree: str, oids: list[str]) -> None:
        self._put(f"{run_id}/{PENDING_FILE}", {"tree": tree, "oids": oids})

    def remove_pending(self, run_id: str) -> None:
        self.layout.backend.remove(f"{self.prefix}/{run_id}/{PENDING_FILE}")

    def load_pending(self, run_ids: set[str]) -> list[str]:
        """The objects the runs `run_ids` announced they are pushing (`.dir` included)."""
        oids: list[str] = []
        for run_id in sorted(run_ids):
            try:
                data = self._get(f"{run_id}/{PENDING_FILE}")
            except FileNotFoundError:
                continue
            oids.append(str(data.get("tree")))
            oids.extend(str(oid) for oid in data.get("oids") or ())
        return oids

    def load(self) -> tuple[list[RunState], list[CheckpointRecord]]:
        """Every run and checkpoint record of the stage, runs by start, checkpoints by time."""
        runs, checkpoints = [], []
        for path in sorted(self.layout.backend.list_files(self.prefix)):
            relpath = posixpath.relpath(path, self.prefix)
            if relpath.endswith(f"/{PENDING_FILE}"):
                continue
            data = self._get(relpath)
            if relpath.endswith(f"/{RUN_FILE}"):
                runs.append(_build(RunState, data, relpath))
            else:
                checkpoints.append(_build(CheckpointRecord, data, relpath))
        runs.sort(key=lambda r: r.started)
        checkpoints.sort(key=lambda c: (c.created, c.seq))
        return runs, checkpoints

    def _put(self, relpath: str, data: dict[str, Any]) -> None:
        raw = json.dumps(data, sort_keys=True).encode()
        if self.layout.cipher is not None:
            raw = self.layout.cipher.seal_bytes(raw, f"{self.prefix}/{relpath}")
        self.layout.backend.put_bytes(f"{self.prefix}/{relpath}", raw)

    def _get(self, relpath: str) -> dict[str, Any]:
        raw = self.layout.backend.get_bytes(f"{self.prefix}/{relpath}")
        try:
            if self.layout.cipher is not None:
                raw = self.layout.cipher.open_bytes(raw, f"{self.prefix}/{relpath}")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except (ValueError, CryptoError) as exc:
            raise CheckpointError(
                f"checkpoint record {self.prefix}/{relpath} on the remote is unreadable: {exc}"
            ) from None


def root_prefix(layout: Layout) -> str:
    return SEALED_PREFIX if layout.cipher is not None else PLAIN_PREFIX


def _build(cls: Any, data: dict[str, Any], relpath: str) -> Any:
    """A record from its JSON; keys a later llmpipe added are left out."""
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise CheckpointError(
            f"checkpoint record {relpath} on the remote is incomplete: {exc}"
        ) from None
