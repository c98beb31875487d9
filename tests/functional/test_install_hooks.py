"""`install` writes the git hooks `dvc install` writes, calling llmpipe; real git
commands then run them: commit shows status, checkout checks data out, push pushes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import llmpipe_env, needs_dvc
from tests.functional.twins import Twins

HOOKS = ("post-checkout", "pre-commit", "pre-push")


def _hook_env(tmp_path: Path) -> dict[str, str]:
    """This checkout's llmpipe as the `llmpipe` the hooks call (first on PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "llmpipe"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m llmpipe "$@"\n')
    shim.chmod(0o755)
    env = llmpipe_env()
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"}


def _git(project, env, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run(["git", *args], cwd=project.path, env=env, capture_output=True,
                          text=True, check=True, stdin=subprocess.DEVNULL)  # fmt: skip


@needs_dvc
@pytest.mark.dvc
def test_hooks_are_dvcs_calling_llmpipe(project, tmp_path):
    twins = Twins(project, tmp_path)
    twins.both("install")
    for name in HOOKS:
        ours = twins.ours.path / ".git" / "hooks" / name
        theirs = twins.theirs / ".git" / "hooks" / name
        assert ours.read_text() == theirs.read_text().replace("exec dvc ", "exec llmpipe ")
        assert stat.S_IMODE(ours.stat().st_mode) == stat.S_IMODE(theirs.stat().st_mode)
    ours, _ = twins.both("install")  # a hook there already: refused, as dvc refuses
    assert ours.stderr.startswith(
        "ERROR: failed to install llmpipe Git hooks - Hook 'post-checkout' already exists."
    )


def test_a_foreign_hook_is_never_overwritten(project):
    foreign = project.write(".git/hooks/pre-push", "#!/bin/sh\necho mine\n")
    result = project.llmpipe("install")
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: failed to install llmpipe Git hooks - Hook 'pre-push'")
    assert foreign.read_text() == "#!/bin/sh\necho mine\n"
    assert not (project.path / ".git" / "hooks" / "post-checkout").exists()  # nothing written


def test_git_runs_the_hooks(project, tmp_path):
    env = _hook_env(tmp_path)
    project.ok("install")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.write("a.txt", "one\n")
    project.ok("add", "a.txt")
    _git(project, env, "add", "-A")
    _git(project, env, "commit", "-q", "-m", "one")
    _git(project, env, "checkout", "-q", "-b", "other")
    project.write("a.txt", "two\n")
    project.ok("add", "a.txt")
    _git(project, env, "add", "-A")
    project.write("a.txt", "two, edited\n")
    shown = _git(project, env, "commit", "-q", "-m", "two")  # pre-commit: status (on stderr)
    assert shown.stderr == "a.txt.dvc:\n\tout 'a.txt' modified\n"
    project.ok("checkout", "--force", "a.txt.dvc")
    _git(project, env, "checkout", "-q", "main")  # post-checkout: the data follows
    assert project.read("a.txt") == "one\n"
    _git(project, env, "checkout", "-q", "other", "--", "a.txt.dvc")  # a file: no checkout
    assert project.read("a.txt") == "one\n"
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "origin.git")], check=True)
    _git(project, env, "remote", "add", "origin", str(tmp_path / "origin.git"))
    assert not (tmp_path / "store").exists()
    _git(project, env, "push", "-q", "origin", "main")  # pre-push: the data goes too
    assert len(list((tmp_path / "store").rglob("*"))) > 0
    project.git("reset", "-q", "--hard")


def test_pre_commit_tool_entry(project):
    project.write(".pre-commit-config.yaml", "repos:\n# mine\n- repo: local\n  hooks: []\n")
    for _ in range(2):  # added once
        project.ok("install", "--use-pre-commit-tool")
    text = project.read(".pre-commit-config.yaml")
    assert text.startswith("repos:\n# mine\n- repo: local\n  hooks: []\n- repo: local\n")
    assert text.count("entry: llmpipe git-hook") == 3
    assert not (project.path / ".git" / "hooks" / "pre-commit").exists()


def test_hooks_do_nothing_outside_a_project(tmp_path):
    result = subprocess.run([sys.executable, "-m", "llmpipe", "git-hook", "pre-push"],
                            cwd=tmp_path, env=llmpipe_env(), capture_output=True, text=True)  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
