"""dvc's `.dvc/tmp/rwlock` is honoured both ways (#15 item 13).

While dvc runs a stage's command it releases `.dvc/tmp/lock` and records the
stage's paths in `.dvc/tmp/rwlock`; llmpipe must not run beside it. llmpipe
records its own stage runs there, in the format dvc's code reads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc

SLOW_STAGE = """\
stages:
  slow:
    cmd: while [ ! -e go ]; do sleep 0.05; done && echo done > out.txt
    deps: [in.txt]
    outs: [out.txt]
"""


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _rwlock(project) -> dict:
    path = project.path / ".dvc" / "tmp" / "rwlock"
    try:
        return json.loads(path.read_text() or "{}")
    except (FileNotFoundError, ValueError):
        return {}


def _writer_of(project, relpath: str) -> dict | None:
    return _rwlock(project).get("write", {}).get(str(project.path / relpath))


@pytest.fixture
def slow(project):
    project.write("in.txt", "in\n")
    project.write("dvc.yaml", SLOW_STAGE)
    return project


@pytest.mark.dvc
@needs_dvc
def test_llmpipe_does_not_run_beside_a_dvc_stage(slow):
    dvc = subprocess.Popen(
        ["dvc", "repro"],
        cwd=slow.path,
        env={**os.environ, **GIT_ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(lambda: _writer_of(slow, "out.txt") is not None)
        ours = subprocess.run(
            [sys.executable, "-m", "llmpipe", "repro"],
            cwd=slow.path,
            env=llmpipe_env(),
            capture_output=True,
            text=True,
            timeout=60,  # beside dvc, the stage would wait for `go` for ever
        )
        assert ours.returncode == 1, ours.stderr
        error = ours.stderr.strip().splitlines()
        assert len(error) == 1 and error[0].startswith("ERROR:"), ours.stderr
        assert f"PID {dvc.pid}" in error[0] and "out.txt" in error[0]
        assert not (slow.path / "out.txt").exists()
    finally:
        (slow.path / "go").touch()
        output, _ = dvc.communicate(timeout=120)
    assert dvc.returncode == 0, output
    assert "up to date" in slow.ok("status").out


@pytest.mark.dvc
@needs_dvc
def test_dvc_sees_the_stage_llmpipe_runs(slow):
    from dvc.exceptions import DvcException
    from dvc.fs import localfs
    from dvc.rwlock import rwlock

    ours = slow.spawn_llmpipe("repro")
    try:
        _wait_for(lambda: _writer_of(slow, "out.txt") is not None)
        assert _writer_of(slow, "out.txt") == {"pid": ours.pid, "cmd": "llmpipe repro"}
        tmp_dir = str(slow.path / ".dvc" / "tmp")
        out = str(slow.path / "out.txt")
        blocked = pytest.raises(DvcException, match=f"PID {ours.pid}")  # dvc's own rule
        with blocked, rwlock(tmp_dir, localfs, "dvc repro", [], [out], False):
            pass
    finally:
        (slow.path / "go").touch()
        _, err = ours.communicate(timeout=120)
    assert ours.returncode == 0, err
    assert _rwlock(slow) == {}  # released, in a file dvc still reads


@pytest.mark.dvc
@needs_dvc
def test_an_entry_of_a_killed_llmpipe_blocks_nobody(slow):
    ours = slow.spawn_llmpipe("repro")
    _wait_for(lambda: _writer_of(slow, "out.txt") is not None)
    os.killpg(ours.pid, signal.SIGKILL)
    ours.communicate()
    assert _writer_of(slow, "out.txt") is not None  # left behind by the kill
    (slow.path / "go").touch()
    slow.ok("repro")
    assert _writer_of(slow, "out.txt") is None
    slow.write("in.txt", "changed\n")
    dvc = slow.run("dvc", "repro", check=False)
    assert dvc.returncode == 0, dvc.stdout + dvc.stderr


def test_an_unreadable_rwlock_is_one_clear_error(slow):
    (slow.path / ".dvc" / "tmp").mkdir(exist_ok=True)
    (slow.path / ".dvc" / "tmp" / "rwlock").write_text("{not json")
    result = slow.llmpipe("repro")
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR:") and "rwlock" in result.stderr
    assert "delete it" in result.stderr
