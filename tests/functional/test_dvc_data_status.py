"""`llmpipe data status --json` reports what `dvc data status --json` reports on the same
repository (dvc lists entries in no fixed order: lists are compared sorted)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def _sorted(value):
    if isinstance(value, list):
        return sorted(value, key=str)
    if isinstance(value, dict):
        return {key: _sorted(item) for key, item in value.items()}
    return value


def same(project, *args: str) -> dict:
    theirs = subprocess.run(["dvc", "data", "status", "--json", *args], cwd=project.path,
                            capture_output=True, text=True, env=llmpipe_env())  # fmt: skip
    ours = project.llmpipe("data", "status", "--json", *args)
    assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
    found = _sorted(json.loads(ours.stdout))
    assert found == _sorted(json.loads(theirs.stdout))
    return found


def test_before_and_after_add_and_commit(project):
    for name in ("f1", "f2", "f3"):
        project.write(f"data/{name}", name)
    project.write("single.txt", "x")
    assert same(project) == {}
    assert "untracked" in same(project, "--untracked-files")
    assert project.ok("data", "status").out.startswith("No changes in an empty git repo.")
    project.ok("add", "data", "single.txt")
    assert same(project)["committed"]["added"] == ["data/", "single.txt"]
    same(project, "--granular", "--unchanged")
    project.commit("one")
    assert same(project, "--unchanged") == {"unchanged": ["data/", "single.txt"]}


def test_uncommitted_changes_granular_targets_and_not_in_cache(project):
    for name in ("f1", "f2", "f3"):
        project.write(f"data/{name}", name)
    project.write("single.txt", "x")
    project.ok("add", "data", "single.txt")
    project.commit("one")
    project.write("data/f1", "changed")
    project.write("data/f9", "new")
    (project.path / "single.txt").unlink()
    assert same(project)["uncommitted"] == {"modified": ["data/"], "deleted": ["single.txt"]}
    assert "data/f9" in same(project, "--granular", "--unchanged")["uncommitted"]["added"]
    same(project, "--granular", "data")
    out = project.ok("data", "status").out
    assert "DVC uncommitted changes:" in out and "        modified: data/" in out
    (project.path / ".dvc/cache/files/md5").rename(project.path / "moved")
    assert same(project)["not_in_cache"] == ["data/", "single.txt"]


def test_not_in_remote_as_dvc_and_an_unreachable_remote_is_an_error(project, tmp_path):
    for name in ("f1", "f2"):
        project.write(f"data/{name}", name)
    project.write("single.txt", "x")
    project.write("local.txt", "never pushed")
    project.ok("add", "data", "single.txt", "local.txt")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.ok("remote", "add", "other", str(tmp_path / "other"))
    dvcfile = project.read("local.txt.dvc").replace(
        "  path: local.txt", "  path: local.txt\n  push: false"
    )
    project.write("local.txt.dvc", dvcfile)
    project.commit("data")
    assert same(project, "--not-in-remote") == {"not_in_remote": ["data/", "single.txt"]}
    same(project, "--not-in-remote", "--granular")
    project.ok("push", "single.txt.dvc")
    assert same(project, "--not-in-remote") == {"not_in_remote": ["data/"]}
    for args in (("--granular",), ("data",), ("single.txt",), ("-r", "other")):
        same(project, "--not-in-remote", *args)
    assert same(project, "-r", "other") == {}  # -r alone checks nothing, as in dvc
    shown = project.ok("data", "status", "--not-in-remote").out
    assert shown.startswith('Not in remote:\n  (use "llmpipe push <file>..." to upload files)\n')
    # dvc says "not in remote" for a remote it cannot reach; llmpipe says it cannot check.
    project.ok("remote", "add", "down", "ssh://127.0.0.1:9/store")
    failed = project.llmpipe("data", "status", "--not-in-remote", "-r", "down", "--json")
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.startswith("ERROR: cannot reach remote 'down'"), failed.stderr
