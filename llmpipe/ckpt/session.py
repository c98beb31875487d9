"""One run of a stage with checkpoints: resume before the command, stream while it runs.

Before the command starts: when the checkpoint directory holds no complete
checkpoint, the latest checkpoint pushed by an unfinished run with the same
inputs (command, deps, params) is fetched, verified and restored; a corrupt one
is refused with a notice and the one before it is used. A run record
(`running`) goes to the remote, and the watcher starts. After the command: the
latest checkpoint is pushed, and the run record says `finished` or `failed`.

Stages without `meta.llmpipe.checkpoints` pass straight through.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..checkpoint import complete
from ..errors import CheckpointError, LlmpipeError
from ..stage import HashInfo, Stage
from .records import CheckpointRecord, RecordStore, RunState, checkpoint_id
from .spec import CheckpointSpec, checkpoint_spec, kept

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from ..lineage.checkpoints import CheckpointLog
    from ..project import Project
    from ..remote.layout import Layout
    from .snapshot import Snapshot


# A run in these states did not finish its work: its checkpoints are resumed from.
RESUMABLE = ("running", "failed")


def input_key(inputs: dict[str, Any]) -> str:
    """Identity of what a run computes: equal keys resume each other's checkpoints."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def checkpoint_session(
    project: Project,
    stage: Stage,
    inputs: dict[str, Any],
    wanted: str | None = None,
    check_rights: Callable[[RemoteConfig], None] | None = None,
) -> Iterator[None]:
    """Around one execution of `stage`'s command (see the module doc).

    `check_rights(remote)` raises when the access policy forbids streaming to it.
    """
    spec = checkpoint_spec(stage)
    if spec is None:
        yield
        return
    stream = open_stream(project, stage, spec, input_key(inputs), wanted is not None, check_rights)
    if stream is None:
        yield
        return
    try:
        stream.resume(wanted)
        stream.begin()
        succeeded = False
        try:
            yield
            succeeded = True
        finally:
            stream.end(succeeded)
    finally:
        stream.close()


def open_stream(
    project: Project,
    stage: Stage,
    spec: CheckpointSpec,
    key: str,
    required: bool,
    check_rights: Callable[[RemoteConfig], None] | None = None,
) -> Stream | None:
    """The stage's stream on its remote; None when there is none (with a notice when
    the remote is configured but cannot be used)."""
    from ..remote.ops import open_layout

    out = next(o for o in stage.outs if o.path == spec.path)
    if not (out.remote or project.config.default_remote or required):
        return None  # a project without remotes keeps its checkpoints on its own disk
    try:
        remote = project.config.remote(out.remote)
        if check_rights is not None:
            check_rights(remote)
        layout = open_layout(project, remote, create=True)
    except LlmpipeError as exc:
        if required:
            raise
        project.notices.append(
            f"stage '{stage.address}': checkpoints are not streamed to a remote ({exc})"
        )
        return None
    return Stream(project, stage, spec, key, remote, layout)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Stream:
    """A stage's checkpoints on one remote, for one run of its command."""

    def __init__(
        self,
        project: Project,
        stage: Stage,
        spec: CheckpointSpec,
        key: str,
        remote: Any,
        layout: Layout,
    ) -> None:
        from ..lineage.record import new_id

        self.project, self.stage, self.spec, self.key = project, stage, spec, key
        self.remote, self.layout = remote, layout
        self.store = RecordStore(layout, stage.address)
        self.directory = os.path.join(project.root, stage.repo_path(spec.path))
        self.run = RunState(new_id(), stage.address, key, "running", utc_now(), host=_host())
        self.parent: str | None = None
        self.records: list[CheckpointRecord] = []
        self.sent: set[str] = set()
        self.watcher: Any = None
        self._lock = threading.Lock()

    @property
    def scratch(self) -> str:
        return os.path.join(self.project.tmp_dir, "remote")

    # Before the command.

    def resume(self, wanted: str | None) -> None:
        runs, records = self.store.load()
        if wanted is not None:
            self._restore(find_checkpoint(records, wanted))
            return
        if complete(self.directory):
            return  # this machine's own checkpoints: the training code resumes from them
        unfinished = {r.run_id for r in runs if r.key == self.key and r.state in RESUMABLE}
        for record in reversed(records):
            if record.run_id not in unfinished:
                continue
            try:
                self._restore(record)
                return
            except LlmpipeError as exc:
                self.project.notices.append(
                    f"stage '{self.stage.address}': refused checkpoint {record.id} on the "
                    f"remote ({exc}); trying the one before it"
                )

    def _restore(self, record: CheckpointRecord) -> None:
        from .restore import restore_tree

        info = HashInfo(self.project.odb.hash_name, record.tree, record.size, record.nfiles)
        restore_tree(self.project, self.layout, self.remote, info, self.directory, self.scratch)
        self.parent = record.id
        self.run = replace(self.run, resumed_from=record.id)
        self.project.notices.append(
            f"stage '{self.stage.address}': resumed from checkpoint {record.id} "
            f"(step {record.step}) fetched from remote '{self.remote.name}'"
        )

    def begin(self) -> None:
        from .stream import Watcher

        self.store.put_run(self.run)
        self.watcher = Watcher(self.directory, self.project.odb, self.project.state, self.push)
        self.watcher.start()

    # While the command runs (the watcher's thread).

    def push(self, snapshot: Snapshot) -> None:
        from .objects import push_tree

        odb = self.project.odb
        # Announced before the upload: a `gc -c` meanwhile keeps these objects.
        oids = sorted({entry[1] for entry in snapshot.manifest.entries})
        self.store.put_pending(self.run.run_id, snapshot.info.value, oids)
        push_tree(odb, self.layout, self.remote, snapshot.info, self.scratch, self.sent)
        newest = snapshot.newest
        with self._lock:
            record = CheckpointRecord(
                id=checkpoint_id(self.run.run_id, newest.name),
                stage=self.stage.address,
                run_id=self.run.run_id,
                seq=len(self.records) + 1,
                name=newest.name,
                step=newest.step,
                created=utc_now(),
                tree=snapshot.info.value,
                size=snapshot.info.size or 0,
                nfiles=snapshot.info.nfiles or 0,
                key=self.key,
                parent=self.parent,
                metrics=newest.metrics,
            )
            self.store.put_checkpoint(record)
            write_local_state(self.project.llmpipe_dir, self.run, record.tree)
            self.records.append(record)
            self.parent = record.id
            self._apply_retention()
        local_log(self.project).append([lineage_row(record, self.remote.name)])

    def _apply_retention(self) -> None:
        """Drop this run's records retention does not keep (never the newest)."""
        keep = kept([r.seq for r in self.records], self.spec)
        for record in [r for r in self.records if r.seq not in keep]:
            self.store.remove_checkpoint(record)
            self.records.remove(record)

    # After the command.

    def end(self, succeeded: bool) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            for error in self.watcher.errors:
                self.project.notices.append(
                    f"stage '{self.stage.address}': a checkpoint was not streamed: {error}"
                )
        state = "finished" if succeeded else "failed"
        if self.records or self.parent:
            tree = self.records[-1].tree if self.records else None
            write_local_state(self.project.llmpipe_dir, replace(self.run, state=state), tree)
        try:
            self.store.put_run(replace(self.run, state=state, ended=utc_now()))
            if self.records:
                self.store.remove_pending(self.run.run_id)
            if succeeded:
                self._supersede_older_runs()
        except LlmpipeError as exc:
            self.project.notices.append(
                f"stage '{self.stage.address}': could not record the run on the remote: {exc}"
            )

    def _supersede_older_runs(self) -> None:
        """Unfinished runs of the same inputs are done with: this run finished their work."""
        runs, _ = self.store.load()
        for run in runs:
            if run.key == self.key and run.state in RESUMABLE:
                self.store.put_run(replace(run, state="superseded"))

    def close(self) -> None:
        self.layout.backend.close()


def local_log(project: Project) -> CheckpointLog:
    """The checkpoint records in the project's lineage store (`lineage.checkpoints`)."""
    from ..lineage.checkpoints import CheckpointLog

    return CheckpointLog(project.lineage.path)


def lineage_row(record: CheckpointRecord, remote: str) -> dict[str, Any]:
    return {**asdict(record), "remote": remote}


def _local_state_path(llmpipe_dir: str, address: str) -> str:
    from urllib.parse import quote

    return os.path.join(llmpipe_dir, "checkpoints", f"{quote(address, safe='')}.json")


def write_local_state(llmpipe_dir: str, run: RunState, tree: str | None) -> None:
    """What this clone last streamed for the stage, read by `gc` (`resumable_trees`)."""
    from ..fsutil import atomic_write_text

    path = _local_state_path(llmpipe_dir, run.stage)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write_text(path, json.dumps({"run_id": run.run_id, "state": run.state, "tree": tree}))


def resumable_trees(llmpipe_dir: str, hash_name: str) -> list[HashInfo]:
    """The latest checkpoint snapshot of each stage whose last run here did not finish:
    `gc` keeps their objects, so the stage can resume from this cache."""
    folder = os.path.join(llmpipe_dir, "checkpoints")
    found = []
    with contextlib.suppress(FileNotFoundError):
        for name in sorted(os.listdir(folder)):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    data = json.load(handle)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("state") in RESUMABLE and data.get("tree"):
                found.append(HashInfo(hash_name, str(data["tree"])))
    return found


def find_checkpoint(records: list[CheckpointRecord], wanted: str) -> CheckpointRecord:
    """The record whose id is `wanted` (or starts with it, when that is unambiguous)."""
    exact = [r for r in records if r.id == wanted]
    found = exact or [r for r in records if r.id.startswith(wanted)]
    if len(found) == 1 or (exact and found):
        return found[-1]
    if not found:
        raise CheckpointError(
            f"no checkpoint '{wanted}' on the remote; 'llmpipe checkpoints list STAGE' "
            "names the ones there are"
        )
    raise CheckpointError(
        f"checkpoint id '{wanted}' is ambiguous ({', '.join(r.id for r in found[:5])}); "
        "give more of it"
    )


def _host() -> str | None:
    # os.uname (POSIX) names the host as socket.gethostname does, without importing socket
    # (~10 ms on every stage run).
    uname = getattr(os, "uname", None)
    return uname().nodename if uname else None
