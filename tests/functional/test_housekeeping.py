"""`root`, `cache dir` and `version`/`doctor` answer as `dvc root`, `dvc cache dir` and
`dvc version` do."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import llmpipe_env, needs_dvc


@needs_dvc
@pytest.mark.dvc
def test_root_and_cache_dir_match_dvc(project):
    (project.path / "sub").mkdir()
    for args in (["root"], ["cache", "dir"]):
        theirs = subprocess.run(["dvc", *args], cwd=project.path / "sub", capture_output=True,
                                text=True, env=llmpipe_env())  # fmt: skip
        ours = subprocess.run(["python", "-m", "llmpipe", *args], cwd=project.path / "sub",
                              capture_output=True, text=True, env=llmpipe_env())  # fmt: skip
        assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode)


def test_version_reports_link_types_and_remotes(project):
    project.ok("remote", "add", "-d", "store", str(project.path.parent / "store"))
    report = json.loads(project.ok("doctor", "--json").out)
    assert report["remotes"] == {"store": "local"}
    assert set(report["link_types"]) <= {"reflink", "hardlink", "symlink"}
    assert report["cache_dir"] == str(project.path / ".dvc" / "cache")
    assert "Cache types:" in project.ok("version").out
