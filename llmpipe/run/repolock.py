"""One process at a time mutates a repository.

The lock is an `flock` on `.dvc/tmp/lock`, the file DVC itself locks, so
llmpipe and dvc also exclude each other. The kernel drops it when the holder
dies, even by SIGKILL, so a crash never leaves a stale lock behind. dvc's
second lock, `.dvc/tmp/rwlock`, is honoured both ways (below).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import RepoLockedError
from ..fsutil import atomic_write_text, locked


def _holder(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            pid = handle.read().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid else "another process"


@contextlib.contextmanager
def repo_lock(tmp_dir: str) -> Iterator[None]:
    """Hold the repository lock for the duration of the block, or raise RepoLockedError."""
    os.makedirs(tmp_dir, exist_ok=True)
    path = os.path.join(tmp_dir, "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RepoLockedError(
                f"the repository is locked by {_holder(path)} (another llmpipe or dvc "
                "command is running); wait for it to finish and try again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            check_rwlock(tmp_dir)
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# -- dvc's rwlock -------------------------------------------------------------------
#
# While dvc runs a stage's command it releases `.dvc/tmp/lock` (so that other
# commands may run beside a long stage) and records in `.dvc/tmp/rwlock` the
# paths it reads and writes: JSON `{"read": {path: [info]}, "write": {path: info}}`,
# `info` = `{"pid": …, "cmd": …}`, absolute paths, edited under an flock on
# `.dvc/tmp/rwlock.lock`. An entry whose process is gone is stale and dropped.
# llmpipe keeps the repository lock for its whole command, so a live entry of
# another process means dvc is in the middle of a stage and will want the lock
# back: llmpipe refuses to start rather than run beside it (or make it fail).
# llmpipe records its own stage runs there too, in dvc's format, so dvc sees them.

RWLOCK_FILE = "rwlock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _read_rwlock(path: str) -> dict[str, dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {"read": {}, "write": {}}
    except (OSError, ValueError) as exc:
        raise RepoLockedError(_corrupt_rwlock(path, exc)) from None
    if not isinstance(data, dict) or not _valid_rwlock(data):
        raise RepoLockedError(_corrupt_rwlock(path, "not dvc's rwlock format"))
    return {"read": dict(data.get("read") or {}), "write": dict(data.get("write") or {})}


def _valid_info(info: object) -> bool:
    return (
        isinstance(info, dict) and type(info.get("pid")) is int and isinstance(info.get("cmd"), str)
    )


def _valid_rwlock(data: dict[str, Any]) -> bool:
    read, write = data.get("read", {}), data.get("write", {})
    return (
        isinstance(read, dict)
        and isinstance(write, dict)
        and all(isinstance(v, list) and all(map(_valid_info, v)) for v in read.values())
        and all(_valid_info(v) for v in write.values())
    )


def _corrupt_rwlock(path: str, why: object) -> str:
    return (
        f"dvc's lock file {path} cannot be read ({why}); if no dvc or llmpipe command "
        "is running in this repository, delete it and try again"
    )


@contextlib.contextmanager
def _edit_rwlock(tmp_dir: str) -> Iterator[dict[str, dict[str, Any]]]:
    """dvc's rwlock content for the block, written back (atomically) when it changed."""
    path = os.path.join(tmp_dir, RWLOCK_FILE)
    with locked(path + ".lock"):
        lock = _read_rwlock(path)
        before = json.dumps(lock, sort_keys=True)
        _drop_dead(lock)
        yield lock
        if json.dumps(lock, sort_keys=True) != before:
            kept = {mode: entries for mode, entries in lock.items() if entries}
            atomic_write_text(path, json.dumps(kept), durable=False)


def _drop_dead(lock: dict[str, dict[str, Any]]) -> None:
    """Forget entries of processes that are gone (killed, as dvc says, mid-stage)."""
    for path, info in list(lock["write"].items()):
        if not _pid_alive(info["pid"]):
            del lock["write"][path]
    for path, infos in list(lock["read"].items()):
        alive = [info for info in infos if _pid_alive(info["pid"])]
        if alive:
            lock["read"][path] = alive
        else:
            del lock["read"][path]


def _foreign(lock: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(path, info) of every entry another process holds."""
    me = os.getpid()
    entries = [(path, info) for path, info in lock["write"].items()]
    entries += [(path, info) for path, infos in lock["read"].items() for info in infos]
    return [(path, info) for path, info in entries if info["pid"] != me]


def check_rwlock(tmp_dir: str) -> None:
    """RepoLockedError when another live process holds entries in dvc's rwlock.

    Costs one failed open when the file does not exist (a repository dvc never ran in).
    """
    if not os.path.exists(os.path.join(tmp_dir, RWLOCK_FILE)):
        return
    with _edit_rwlock(tmp_dir) as lock:
        holders = _foreign(lock)
    if holders:
        raise RepoLockedError(_busy_message(holders))


def _busy_message(holders: list[tuple[str, dict[str, Any]]]) -> str:
    by_process: dict[tuple[int, str], list[str]] = {}
    for path, info in holders:
        by_process.setdefault((info["pid"], info["cmd"]), []).append(path)
    who = "; ".join(
        f"'{cmd}' (PID {pid}) is using {', '.join(sorted(paths))}"
        for (pid, cmd), paths in sorted(by_process.items())
    )
    return (
        f"the repository is busy: {who} (dvc's .dvc/tmp/rwlock); wait for it to "
        "finish and try again"
    )


@contextlib.contextmanager
def stage_rwlock(tmp_dir: str, read: list[str], write: list[str]) -> Iterator[None]:
    """Record in dvc's rwlock that this process reads `read` and writes `write`.

    Absolute paths, as dvc records them; RepoLockedError when another live process
    writes any of them, or reads one of `write` (dvc's rule, paths overlapping).
    Nothing is recorded without a `tmp_dir`.
    """
    if not tmp_dir:
        yield
        return
    info = {"pid": os.getpid(), "cmd": _command_line()}
    with _edit_rwlock(tmp_dir) as lock:
        _check_blockers(lock, read, write)
        reads = [p for p in dict.fromkeys(read) if info not in lock["read"].get(p, [])]
        writes = [p for p in dict.fromkeys(write) if lock["write"].get(p) != info]
        for path in reads:
            lock["read"].setdefault(path, []).append(info)
        for path in writes:
            lock["write"][path] = info
    try:
        yield
    finally:
        with _edit_rwlock(tmp_dir) as lock:
            for path in writes:
                if lock["write"].get(path) == info:
                    del lock["write"][path]
            for path in reads:
                with contextlib.suppress(KeyError, ValueError):
                    lock["read"][path].remove(info)
                    if not lock["read"][path]:
                        del lock["read"][path]


def _command_line() -> str:
    """This command as typed (dvc records `sys.argv` joined the same way)."""
    args = sys.argv[1:] if sys.argv and sys.argv[0].endswith(("__main__.py", "llmpipe")) else []
    return " ".join(["llmpipe", *args])


def _check_blockers(lock: dict[str, dict[str, Any]], read: list[str], write: list[str]) -> None:
    me = os.getpid()
    blockers = [
        (path, info)
        for path, info in lock["write"].items()
        if info["pid"] != me and any(_overlaps(path, p) for p in read + write)
    ]
    blockers += [
        (path, info)
        for path, infos in lock["read"].items()
        for info in infos
        if info["pid"] != me and any(_overlaps(path, p) for p in write)
    ]
    if blockers:
        raise RepoLockedError(_busy_message(blockers))


def _overlaps(left: str, right: str) -> bool:
    """True when one path is the other or inside it (dvc's `overlaps`)."""
    return left == right or left.startswith(right + os.sep) or right.startswith(left + os.sep)
