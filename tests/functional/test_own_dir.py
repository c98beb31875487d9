"""`.llmpipe/` never makes a clean checkout dirty: its machine-local parts are ignored."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import GIT_ENV, needs_dvc

PIPELINE = """\
stages:
  copy:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
"""


def _untracked(path) -> list[str]:  # noqa: ANN001
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(result.stdout.splitlines())


@pytest.fixture
def dvc_repo(tmp_path, capsys):  # noqa: ANN001, ANN201
    from tests.conftest import Project

    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    project = Project(path, capsys)
    project.run("dvc", "init", "-q")
    project.write("a.txt", "a\n")
    project.write("dvc.yaml", PIPELINE)
    project.commit("a dvc project")
    return project


@needs_dvc
@pytest.mark.dvc
def test_commands_leave_a_dvc_checkout_clean(dvc_repo, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(dvc_repo.path, twin)
    for args in (("status",), ("dag",), ("metrics", "show"), ("status", "--json")):
        dvc_repo.ok(*args)
        assert _untracked(dvc_repo.path) == [], args
    assert (dvc_repo.path / ".llmpipe" / "state.db").exists()
    dvc_repo.ok("repro")
    subprocess.run(["dvc", "repro", "-q"], cwd=twin, check=True, env={**os.environ, **GIT_ENV})
    # What repro leaves for git is what dvc's leaves: dvc.lock and the .gitignore entry.
    assert _untracked(dvc_repo.path) == _untracked(twin) == ["?? .gitignore", "?? dvc.lock"]


def test_init_writes_a_committable_gitignore(project):
    project.commit("init")
    assert _untracked(project.path) == []
    assert "/.gitignore" not in project.read(".llmpipe/.gitignore")
    project.write("data.txt", "x\n")
    project.ok("add", "data.txt")
    project.ok("status")
    assert _untracked(project.path) == ["?? .gitignore", "?? data.txt.dvc"]


def test_committed_parts_stay_visible(dvc_repo):
    dvc_repo.ok("status")
    dvc_repo.write(".llmpipe/registry.yaml", "gates: {}\n")
    assert _untracked(dvc_repo.path) == ["?? .llmpipe/registry.yaml"]
