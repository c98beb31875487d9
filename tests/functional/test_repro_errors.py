"""Bad input and faults: one clear error, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

STAGES_AB = """\
stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
"""


def test_failing_command_reports_status_blocks_downstream_and_keeps_lock(project):
    project.write("dvc.yaml", STAGES_AB.replace("echo a > a.txt", "exit 3"))
    result = project.cli("repro")
    assert result.code != 0
    assert "ERROR: stage 'a': command 'exit 3' failed with exit status 3" in result.err
    assert "b" in result.err  # named as not run
    assert not (project.path / "dvc.lock").exists()
    assert not (project.path / "b.txt").exists()
    failed = json.loads(project.ok("log", "--json").out)
    assert [(r["stage"], r["status"], r["exit_status"]) for r in failed] == [("a", "failed", 3)]


def test_keep_going_runs_independent_branches(project):
    project.write(
        "dvc.yaml",
        STAGES_AB.replace("echo a > a.txt", "exit 3")
        + "  c:\n    cmd: echo c > c.txt\n    outs: [c.txt]\n",
    )
    result = project.cli("repro", "--keep-going")
    assert result.code != 0
    assert (project.path / "c.txt").exists()
    assert "c:" in project.read("dvc.lock")


def test_declared_output_not_produced(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: 'true'\n    outs: [never.txt]\n")
    result = project.cli("repro")
    assert result.code != 0
    assert "did not produce 'never.txt'" in result.err


def test_missing_dependency(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: cat in.txt\n    deps: [in.txt]\n")
    result = project.cli("repro")
    assert result.code != 0
    assert "'in.txt' does not exist" in result.err


def test_unknown_target_suggests_close_names(project):
    project.write("dvc.yaml", STAGES_AB)
    result = project.cli("repro", "bb")
    assert result.code != 0
    assert "unknown target 'bb'" in result.err and "'b'" in result.err


def test_cycle_is_named(project):
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: cp y x\n    deps: [y]\n    outs: [x]\n"
        "  b:\n    cmd: cp x y\n    deps: [x]\n    outs: [y]\n",
    )
    result = project.cli("repro")
    assert result.code != 0
    assert "cycle" in result.err and "a -> b -> a" in result.err or "b -> a -> b" in result.err


def test_two_stages_with_the_same_output(project):
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: echo > x\n    outs: [x]\n  b:\n    cmd: echo > x\n    outs: [x]\n",
    )
    result = project.cli("repro")
    assert result.code != 0
    assert "output 'x' is declared by both 'a' and 'b'" in result.err


def test_output_inside_another_output(project):
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: mkdir -p d\n    outs: [d]\n"
        "  b:\n    cmd: echo > d/x\n    outs: [d/x]\n",
    )
    result = project.cli("repro")
    assert result.code != 0
    assert "inside output 'd'" in result.err


def test_second_repro_while_one_runs_is_refused(project):
    project.write("dvc.yaml", "stages:\n  slow:\n    cmd: sleep 3 && echo > s\n    outs: [s]\n")
    first = project.spawn_llmpipe("repro")
    try:
        _wait_for_lock(project.path)
        second = project.llmpipe("repro")
        assert second.returncode != 0
        assert f"locked by PID {first.pid}" in second.stderr
    finally:
        first.communicate(timeout=30)
    assert first.returncode == 0
    assert project.llmpipe("status").stdout.strip() == "Data and pipelines are up to date."


def test_sigkill_mid_run_then_repro_completes(project):
    project.write("dvc.yaml", STAGES_AB.replace("echo a > a.txt", "echo a > a.txt && sleep 30"))
    first = project.spawn_llmpipe("repro")
    _wait_for(lambda: (project.path / "a.txt").exists())
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    project.write("dvc.yaml", STAGES_AB)
    result = project.llmpipe("repro")
    assert result.returncode == 0, result.stderr
    assert project.read("b.txt") == "a\n"
    assert project.llmpipe("status").stdout.strip() == "Data and pipelines are up to date."


def _interrupted_mid_run(project, command: str, send) -> tuple[int, bytes]:  # noqa: ANN001
    """Run stage a as `command`; once a.txt exists, `send(pid)` the interrupt.
    (exit status, stderr); the run is killed whatever happens, never left behind."""
    project.write("dvc.yaml", STAGES_AB.replace("echo a > a.txt", command))
    first = project.spawn_llmpipe("repro")
    try:
        _wait_for(lambda: (project.path / "a.txt").exists())
        send(first.pid)
        # Far below the command's 300 s, far above a loaded machine's shutdown time.
        _, err = first.communicate(timeout=90)
    finally:
        if first.poll() is None:  # never leave it to be reaped in another test
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
    return first.returncode, err


def test_ctrl_c_mid_run_leaves_a_consistent_repo(project):
    # `exec`: no grandchild. A SIGINT landing between dash's `echo` and its fork of
    # `sleep` would reach dash alone, and an orphaned `sleep` would hold the pipes open.
    code, err = _interrupted_mid_run(
        project, "echo a > a.txt && exec sleep 300", lambda pid: os.killpg(pid, signal.SIGINT)
    )
    assert code != 0
    assert b"Traceback" not in err
    assert not (project.path / "dvc.lock").exists()
    project.write("dvc.yaml", STAGES_AB)
    assert project.llmpipe("repro").returncode == 0
    assert project.read("b.txt") == "a\n"


def test_ctrl_c_to_llmpipe_alone_stops_a_command_that_ignores_it(project):
    """The interrupt reaches only llmpipe (not the command's process group), and the
    command ignores SIGINT: llmpipe must stop it itself, then exit without a lock."""
    code, err = _interrupted_mid_run(
        project,
        "trap '' INT; echo a > a.txt; exec sleep 300",
        lambda pid: os.kill(pid, signal.SIGINT),
    )
    assert code == 130, err
    assert b"Traceback" not in err
    assert not (project.path / "dvc.lock").exists()


def project_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _wait_for_lock(path) -> None:
    lock = path / ".dvc" / "tmp" / "lock"
    _wait_for(lambda: lock.exists() and lock.read_text().strip() != "")


def test_malformed_dvcyaml_names_file_and_line(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: [unclosed\n")
    result = project.cli("repro")
    assert result.code != 0
    assert "dvc.yaml:" in result.err and "Traceback" not in result.err


def test_unknown_stage_key_suggests_the_right_one(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: 'true'\n    dep: [x]\n")
    result = project.cli("status")
    assert result.code != 0 and "'dep'" in result.err and "deps" in result.err


def test_verbose_shows_the_traceback(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: 'true'\n    dep: [x]\n")
    result = project.llmpipe("status", "-v")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_outside_a_project_is_a_clear_error(tmp_path):

    result = subprocess.run(
        [sys.executable, "-m", "llmpipe", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project_root())},
    )
    assert result.returncode != 0 and "llmpipe init" in result.stderr


def test_sigkill_keeps_finished_stages_of_a_large_lock(project):
    """Past 64 KiB, dvc.lock is rewritten in steps and finished entries wait in a
    journal in between (issue 20): a kill loses none, and the next `repro` runs only the
    stage that was killed; when it ends, dvc.lock holds everything (dvc agrees)."""
    values = "\n".join(f"  - {i}" for i in range(2500))
    project.write("params.yaml", f"big:\n{values}\n")
    stages = ["stages:"]
    for i in range(10):
        sleep = " && sleep 300" if i == 9 else ""
        deps = f"\n    deps: [s{i - 1}.txt]" if i else ""
        stages.append(
            f"  s{i}:\n    cmd: echo {i} > s{i}.txt{sleep}{deps}\n"
            f"    params: [big]\n    outs: [s{i}.txt]"
        )
    project.write("dvc.yaml", "\n".join(stages) + "\n")
    first = project.spawn_llmpipe("repro")
    try:
        _wait_for(lambda: (project.path / "s9.txt").exists(), timeout=120)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    on_disk = project.read("dvc.lock")
    # Entries of ~32 KB: the lock was last rewritten after s6; s7 and s8 are journaled.
    assert len(on_disk) > 64 * 1024 and "  s6:\n" in on_disk and "  s8:\n" not in on_disk
    project.write("dvc.yaml", "\n".join(stages).replace(" && sleep 300", "") + "\n")
    result = project.llmpipe("repro")
    assert result.returncode == 0, result.stderr
    assert "Running stage 's9'" in result.stdout
    assert "Running stage 's8'" not in result.stdout
    assert "  s8:\n" in project.read("dvc.lock")
    assert not list((project.path / ".llmpipe" / "tmp" / "lock-journal").iterdir())
    if shutil.which("dvc"):
        dvc = project.run("dvc", "status", check=False)
        assert dvc.returncode == 0 and "up to date" in dvc.stdout, dvc.stdout + dvc.stderr
