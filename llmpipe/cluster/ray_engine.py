"""The Ray engine: each stage is one Ray task asking for the stage's resources.

The driver joins an existing cluster (`llmpipe.ray_address` in `.llmpipe/config`,
else `RAY_ADDRESS`, else `auto`); it never starts one. Workers need llmpipe
importable (installed, or on their PYTHONPATH); nothing else of the project.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

from ..errors import ExecutorError
from ..run.dispatch import Notify
from ..stage import Resources, Stage
from .driver import WorkerLost
from .task import StageTask, TaskResult

_INSTALL = "the ray executor needs Ray on the driver and the workers: pip install 'llmpipe[ray]'"


def _run_on_worker(task: StageTask) -> Iterator[str | TaskResult]:
    """A streaming task: first the node it runs on (the driver shows it), then the result."""
    from llmpipe.cluster.worker import node_name, run_task

    yield node_name()
    yield run_task(task)


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise ExecutorError(_INSTALL) from None
        self.ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or "auto"
        self.joined = not ray.is_initialized()
        if self.joined:
            try:
                ray.init(address=address, logging_level="ERROR", log_to_driver=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ExecutorError(
                    f"cannot join the Ray cluster at '{address}': {exc}; start one with"
                    " 'ray start --head', or name it with RAY_ADDRESS or 'ray_address' in the"
                    " [llmpipe] section of .llmpipe/config"
                ) from None
        self.task = ray.remote(_run_on_worker)

    def check(self, stage: Stage) -> None:
        """ExecutorError when no live node has the CPUs, GPUs and memory `stage` asks for
        (Ray would otherwise leave the task pending for ever)."""
        wanted = _ray_resources(stage.resources)
        nodes = [n["Resources"] for n in self.ray.nodes() if n.get("Alive")]
        if any(all(node.get(k, 0) >= v for k, v in wanted.items()) for node in nodes):
            return
        biggest = ", ".join(f"{k} {max((n.get(k, 0) for n in nodes), default=0):g}" for k in wanted)
        asked = ", ".join(f"{k} {v:g}" for k, v in wanted.items())
        raise ExecutorError(
            f"stage '{stage.address}' asks for {asked} on one node, but no node of the Ray"
            f" cluster has that (the most any node has: {biggest}); lower"
            " meta.llmpipe.resources or add a bigger node"
        )

    def run(self, task: StageTask, resources: Resources, notify: Notify) -> tuple[TaskResult, str]:
        ray = self.ray
        stream = self.task.options(**_task_options(resources)).remote(task)
        job_id = stream.completed().task_id().hex()
        notify("queued", f"ray (task {job_id[:12]})")
        deadline = None if resources.time is None else time.monotonic() + resources.time
        try:
            notify("running", ray.get(self._next(stream, deadline)))
            return ray.get(self._next(stream, deadline)), job_id
        except _TimedOut:
            ray.cancel(stream, force=True)
            raise WorkerLost(f"it ran past its time limit ({resources.time}s)", job_id) from None
        except ray.exceptions.RayError as exc:
            raise WorkerLost(_reason(exc), job_id) from None

    def _next(self, stream: Any, deadline: float | None) -> Any:
        """The next item's reference, once it is there (_TimedOut past `deadline`)."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _ = self.ray.wait([stream], timeout=timeout)
        if not ready:
            raise _TimedOut
        return next(stream)

    def close(self) -> None:
        if self.joined:
            self.ray.shutdown()


class _TimedOut(Exception):
    pass


def _ray_resources(resources: Resources) -> dict[str, float]:
    wanted: dict[str, float] = {"CPU": resources.cpus or 1}
    if resources.gpus:
        wanted["GPU"] = resources.gpus
    if resources.memory:
        wanted["memory"] = resources.memory
    return wanted


def _task_options(resources: Resources) -> dict[str, Any]:
    # max_retries=0: the driver retries a lost worker itself (--retries), with the reason.
    options: dict[str, Any] = {"num_cpus": resources.cpus or 1, "max_retries": 0}
    if resources.gpus:
        options["num_gpus"] = resources.gpus
    if resources.memory:
        options["memory"] = resources.memory
    return options


def _reason(exc: BaseException) -> str:
    """Ray's own words, first line: which worker died and why."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no reason given'}"
