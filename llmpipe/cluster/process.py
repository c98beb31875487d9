"""A worker in a separate local process: the engine with no cluster behind it.

It runs `python -m llmpipe.cluster.worker` in its own scratch folder (not the
project), so the executor's contract (nothing shared but the remote) holds on one
machine. The tests use it to pin the contract down without Ray or Slurm.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile

from ..run.dispatch import Notify
from ..stage import Resources, Stage
from .driver import WorkerLost
from .task import StageTask, TaskResult
from .worker import node_name


class ProcessEngine:
    name = "process"

    def __init__(self, scratch: str, env: dict[str, str] | None = None) -> None:
        self.scratch, self.env = scratch, env

    def check(self, stage: Stage) -> None:
        pass  # this machine runs whatever it is given

    def run(self, task: StageTask, resources: Resources, notify: Notify) -> tuple[TaskResult, str]:
        os.makedirs(self.scratch, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as box:
            task_file, result_file = os.path.join(box, "task"), os.path.join(box, "result")
            with open(task_file, "wb") as handle:
                pickle.dump(task, handle)
            env = {**(self.env or os.environ), "LLMPIPE_WORKER_DIR": self.scratch}
            process = subprocess.Popen(
                [sys.executable, "-m", "llmpipe.cluster.worker", task_file, result_file],
                cwd=self.scratch,
                env=env,
            )
            job_id = str(process.pid)
            notify("running", f"{node_name()} (process {job_id})")
            status = process.wait()
            if status != 0 or not os.path.exists(result_file):
                raise WorkerLost(_death(status), job_id)
            with open(result_file, "rb") as handle:
                return pickle.load(handle), job_id

    def close(self) -> None:
        pass


def _death(status: int) -> str:
    if status < 0:
        return f"the worker process was killed by {signal.Signals(-status).name}"
    return f"the worker process exited with status {status}"
