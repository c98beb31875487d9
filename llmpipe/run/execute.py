"""Run a stage's commands in its working directory, through the user's shell."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from typing import IO

from ..errors import RunError
from ..stage import Stage

_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


def _shell() -> str:
    return os.environ.get("SHELL") or "/bin/sh"


def run_commands(stage: Stage, root: str, output: IO[bytes] | None = None) -> None:
    """Run each command in order; RunError with the exit status when one fails.

    `output`: where the commands' stdout and stderr go (a worker collects them for
    its driver); by default they are this process's own."""
    cwd = os.path.join(root, stage.wdir)
    env = dict(os.environ, DVC_ROOT=root, LLMPIPE_ROOT=root, LLMPIPE_STAGE=stage.address)
    for command in stage.commands:
        process = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            env=env,
            executable=_shell(),
            stdout=output,
            stderr=None if output is None else subprocess.STDOUT,
        )
        with _running_lock:
            _running.add(process)
        try:
            status = process.wait()
        finally:
            with _running_lock:
                _running.discard(process)
        if status != 0:
            raise RunError(_failure_message(stage, command, status), exit_status=status)


def _failure_message(stage: Stage, command: str, status: int) -> str:
    if status < 0:
        with contextlib.suppress(ValueError):
            return (
                f"stage '{stage.address}': command '{command}' was killed by "
                f"{signal.Signals(-status).name}"
            )
    failed = f"stage '{stage.address}': command '{command}' failed with exit status {status}"
    if status > 128:
        # A shell that forks (dash does) reports a command killed by signal N as 128+N.
        with contextlib.suppress(ValueError):
            return f"{failed} (killed by {signal.Signals(status - 128).name})"
    return failed


def terminate_all() -> None:
    """Stop every running stage command (on Ctrl-C or a fatal error elsewhere)."""
    with _running_lock:
        processes = list(_running)
    for process in processes:
        with contextlib.suppress(OSError):
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
