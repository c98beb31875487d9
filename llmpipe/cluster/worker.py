"""The worker side: run one `StageTask` in a scratch workspace, with no project folder.

A worker keeps a cache of its own under its scratch folder (`LLMPIPE_WORKER_DIR`, or
`$TMPDIR/llmpipe-worker`), so an object it fetched once is not fetched again. For a
task it fetches the workspace snapshot and the stage's deps from the remote, checks
them out into a fresh folder, runs the command there, copies the outputs into its
cache, pushes them, removes the folder and returns the hashes. A failing command
is a result, not an exception; an exception means the worker itself failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import time

from ..cache.build import build
from ..cache.checkout import checkout
from ..cache.odb import ObjectDB
from ..cache.save import add_copies
from ..cache.state import NoState
from ..errors import LlmpipeError, RunError
from ..pathguard import PathGuard
from ..remote.layout import Layout, connect
from ..remote.objects import expand
from ..run.execute import run_commands
from ..stage import HashInfo
from .objects import fetch_objects, object_bytes, push_objects
from .runs import publish_run
from .task import OUTPUT_LIMIT, StageTask, TaskResult

WORKSPACE_LINKS = ("reflink", "copy")  # a command that edits a dep must not edit the cache


def scratch_dir() -> str:
    """This worker's folder: its cache, and one workspace per running task."""
    chosen = os.environ.get("LLMPIPE_WORKER_DIR")
    return chosen or os.path.join(tempfile.gettempdir(), "llmpipe-worker")


def node_name() -> str:
    """How records name this worker: `LLMPIPE_WORKER_NAME`, else the host name."""
    return os.environ.get("LLMPIPE_WORKER_NAME") or socket.gethostname()


def run_task(task: StageTask) -> TaskResult:
    """Run `task` here; see the module doc. Raises only when the worker cannot work
    (the remote unreachable, its disk full): the driver counts that as a lost worker."""
    scratch = scratch_dir()
    odb = ObjectDB(os.path.join(scratch, "cache", "files", task.hash_name), task.hash_name)
    workspace = os.path.join(scratch, "work", task.task_id)
    result = TaskResult(node=node_name(), started=time.time())
    layout = connect(task.remote, task.hash_name, create=False)
    try:
        _fetch_inputs(task, odb, layout, scratch, result)
        _lay_out(task, odb, workspace)
        try:
            _run_collecting(task, workspace, result)
        except RunError as exc:
            result.error, result.exit_status = str(exc), exc.exit_status
            return result
        result.out_hashes = _save_outputs(task, odb, workspace)
        oids = [oid for info in result.out_hashes.values() for oid in expand(odb, info)]
        pushed = push_objects(odb, layout, task.remote, oids, os.path.join(scratch, "tmp"))
        result.bytes_pushed = object_bytes(odb, pushed.transferred)
        publish_run(layout, task.stage, task.dep_hashes, task.params, result.out_hashes)
    except LlmpipeError as exc:
        result.error, result.exit_status = f"on worker {result.node}: {exc}", None
    finally:
        layout.backend.close()
        shutil.rmtree(workspace, ignore_errors=True)
        result.ended = time.time()
        sys.stdout.flush()
    return result


def _run_collecting(task: StageTask, workspace: str, result: TaskResult) -> None:
    """Run the command with its output in a file beside the workspace; the driver gets
    its tail (a Slurm job's own log stays on its node)."""
    log = workspace.rstrip("/") + ".log"
    try:
        with open(log, "w+b") as handle:
            try:
                run_commands(task.stage, workspace, output=handle)
            finally:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - OUTPUT_LIMIT))
                result.output = handle.read().decode("utf-8", "replace")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log)


def _fetch_inputs(
    task: StageTask, odb: ObjectDB, layout: Layout, scratch: str, result: TaskResult
) -> None:
    infos = [task.workspace, *task.deps.values()]
    fetched = fetch_objects(odb, layout, task.remote, infos, os.path.join(scratch, "tmp"))
    result.objects_fetched = len(fetched.transferred)
    result.fetched_oids = list(fetched.transferred)
    result.bytes_fetched = object_bytes(odb, fetched.transferred)


def _lay_out(task: StageTask, odb: ObjectDB, workspace: str) -> None:
    """The project's files, then each dep at its path, in a fresh `workspace`."""
    shutil.rmtree(workspace, ignore_errors=True)
    os.makedirs(workspace)
    guard, state = PathGuard(workspace), NoState()
    checkout(odb, task.workspace, workspace, WORKSPACE_LINKS, state, guard=guard)
    for relpath, info in task.deps.items():
        checkout(odb, info, os.path.join(workspace, relpath), WORKSPACE_LINKS, state, guard=guard)
    for relpath in task.executables:
        os.chmod(os.path.join(workspace, relpath), 0o755)
    os.makedirs(os.path.join(workspace, task.stage.wdir), exist_ok=True)


def _save_outputs(task: StageTask, odb: ObjectDB, workspace: str) -> dict[str, HashInfo]:
    stage, hashes = task.stage, {}
    for out in stage.outs:
        path = os.path.join(workspace, stage.repo_path(out.path))
        if not os.path.exists(path):
            raise RunError(
                f"stage '{stage.address}': the command succeeded but did not produce"
                f" '{out.path}'; fix the command or the stage's outs"
            )
        info, manifest = build(path, task.hash_name, NoState())
        add_copies(odb, path, info, manifest)
        hashes[out.path] = info
    return hashes


def main(argv: list[str]) -> int:
    """`python -m llmpipe.cluster.worker TASK RESULT`: run a pickled task, pickle the result.

    With `--slurm`, the task is base64 on stdin and the result goes to the remote
    (`slurm_engine.result_path`): a batch job shares no folder with the driver.
    """
    import pickle

    if argv[:1] == ["--slurm"]:
        import base64

        task = pickle.loads(base64.b64decode(sys.stdin.read()))
        _leave_on_remote(task, pickle.dumps(run_task(task)))
        return 0
    with open(argv[0], "rb") as handle:
        task = pickle.load(handle)
    result = run_task(task)
    with open(argv[1] + ".tmp", "wb") as handle:
        pickle.dump(result, handle)
    os.replace(argv[1] + ".tmp", argv[1])
    return 0


def _leave_on_remote(task: StageTask, data: bytes) -> None:
    from .slurm_engine import result_path

    layout = connect(task.remote, task.hash_name, create=False)
    try:
        layout.backend.put_bytes(result_path(task.task_id), data)
    finally:
        layout.backend.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
