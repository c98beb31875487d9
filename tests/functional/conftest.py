"""A second repository driven by the real dvc, for tests that run the same steps
under both tools and compare."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import Project


@pytest.fixture
def dvc_project(tmp_path, capsys) -> Project:  # noqa: ANN001
    """A git repository initialised by `dvc init` (compare with the `project` fixture)."""
    path = tmp_path / "dvc-proj"
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    proj = Project(path, capsys)
    proj.run("dvc", "init", "-q")
    return proj
