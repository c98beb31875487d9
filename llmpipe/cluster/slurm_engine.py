"""The Slurm engine: each stage is one batch job (`sbatch`) asking for its resources.

Nothing is shared with the nodes but the remote: the task travels inside the job
script (base64 of its pickle), and the worker leaves its result on the remote under
`llmpipe-tasks/`, where the driver reads it once Slurm says the job ended. (submitit,
Hydra's Slurm launcher, passes pickles through a folder every node must see, which is
why it is not used here.) The driver polls `scontrol show job`; a job that ends in
any state but COMPLETED (FAILED, NODE_FAIL, PREEMPTED, TIMEOUT, CANCELLED) or leaves no
result is a lost worker, with Slurm's state and reason.
"""

from __future__ import annotations

import base64
import contextlib
import math
import pickle
import shutil
import subprocess
import sys
import time

from ..config import Config, RemoteConfig
from ..errors import ExecutorError, LlmpipeError, StorageNotFoundError
from ..remote.layout import connect
from ..run.dispatch import Notify
from ..stage import Resources, Stage
from .driver import WorkerLost
from .task import StageTask, TaskResult

RESULTS = "llmpipe-tasks"
POLL = 0.5  # seconds between two looks at a running job
_ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
          "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}  # fmt: skip


def result_path(task_id: str) -> str:
    return f"{RESULTS}/{task_id}.result"


class SlurmEngine:
    name = "slurm"

    def __init__(self, config: Config) -> None:
        if shutil.which("sbatch") is None:
            raise ExecutorError(
                "the slurm executor needs Slurm's client commands (sbatch, scontrol) on the"
                " driver's PATH, configured for your cluster (SLURM_CONF)"
            )
        self.partition = config.get("llmpipe", "slurm_partition")
        self.python = config.get("llmpipe", "slurm_python") or sys.executable
        self.workdir = config.get("llmpipe", "slurm_workdir") or "/tmp"

    def check(self, stage: Stage) -> None:
        """ExecutorError when Slurm says no node could run the stage (`sbatch --test-only`)."""
        done = _sbatch([*self._options(stage.resources), "--test-only", "--wrap", "true"])
        if done.returncode != 0:
            said = done.stderr.strip().splitlines()
            raise ExecutorError(
                f"stage '{stage.address}' asks Slurm for {_asked(stage.resources)}, which no"
                f" node can give: {said[-1] if said else 'sbatch refused it'}; lower"
                " meta.llmpipe.resources or use another partition (llmpipe.slurm_partition)"
            )

    def run(self, task: StageTask, resources: Resources, notify: Notify) -> tuple[TaskResult, str]:
        done = _sbatch(["--parsable", *self._options(resources)], self._script(task))
        if done.returncode != 0:
            raise ExecutorError(f"sbatch refused the job: {done.stderr.strip()}")
        job_id = done.stdout.strip().split(";")[0]
        notify("queued", f"slurm (job {job_id})")
        state, reason = _wait(job_id, notify)
        if state != "COMPLETED":
            raise WorkerLost(f"Slurm job ended {state} ({reason})", job_id)
        result = _fetch_result(task.remote, task.hash_name, task.task_id)
        if result is None:
            raise WorkerLost("the job completed but left no result on the remote", job_id)
        return result, job_id

    def close(self) -> None:
        pass

    def _options(self, resources: Resources) -> list[str]:
        options = [f"--cpus-per-task={math.ceil(resources.cpus or 1)}"]
        options.append(f"--chdir={self.workdir}")
        options.append(f"--output={self.workdir}/llmpipe-%j.out")
        if self.partition:
            options.append(f"--partition={self.partition}")
        if resources.gpus:
            options.append(f"--gres=gpu:{resources.gpus}")
        if resources.memory:
            options.append(f"--mem={math.ceil(resources.memory / (1 << 20))}M")
        if resources.time:
            options.append(f"--time={math.ceil(resources.time / 60)}")
        return options

    def _script(self, task: StageTask) -> str:
        payload = base64.b64encode(pickle.dumps(task)).decode("ascii")
        return (
            "#!/bin/sh\n"
            f"exec {self.python} -m llmpipe.cluster.worker --slurm <<'LLMPIPE_TASK'\n"
            f"{payload}\nLLMPIPE_TASK\n"
        )


def _sbatch(args: list[str], script: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sbatch", *args], input=script, capture_output=True, text=True, check=False
    )


def _wait(job_id: str, notify: Notify) -> tuple[str, str]:
    """Poll until the job has ended: its final state and Slurm's reason. Tells `notify`
    the node once the job runs."""
    running = False
    while True:
        fields = _job_fields(job_id)
        state = fields.get("JobState", "UNKNOWN")
        if state == "RUNNING" and not running:
            running = True
            notify("running", f"{fields.get('NodeList', '?')} (job {job_id})")
        if state in _ENDED or not fields:
            return state if fields else "UNKNOWN", fields.get("Reason", "no reason given")
        time.sleep(POLL)


def _job_fields(job_id: str) -> dict[str, str]:
    done = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {}
    return dict(part.split("=", 1) for part in done.stdout.split() if "=" in part)


def _fetch_result(remote: RemoteConfig, hash_name: str, task_id: str) -> TaskResult | None:
    layout = connect(remote, hash_name, create=False)
    try:
        data = layout.backend.get_bytes(result_path(task_id))
    except (FileNotFoundError, StorageNotFoundError):
        return None
    finally:
        with contextlib.suppress(OSError, LlmpipeError):
            layout.backend.remove(result_path(task_id))
        layout.backend.close()
    return pickle.loads(data)


def _asked(resources: Resources) -> str:
    parts = [f"{resources.cpus or 1} CPU(s)"]
    if resources.gpus:
        parts.append(f"{resources.gpus} GPU(s)")
    if resources.memory:
        parts.append(f"{math.ceil(resources.memory / (1 << 20))} MiB")
    return ", ".join(parts)
