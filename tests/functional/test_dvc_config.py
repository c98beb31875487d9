"""`llmpipe config` reads and writes the files `dvc config` does, with the same results."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]


def test_set_get_list_unset_match_dvc(project, tmp_path, monkeypatch):
    project.write(".dvc/config", "[core]\n    remote = foo\n")
    project.commit("config")
    twins = Twins(project, tmp_path)
    steps = [
        ["config", "core.autostage", "true"],
        ["config", "core.remote"],
        ["config", "-l"],
        ["config", "-l", "--show-origin"],
        ["config", "--local", "cache.type", "hardlink"],
        ["config", "--local", "-l"],
        ["config", "-u", "core.autostage"],
        ["config", "remote.foo.url", "/tmp/x"],
        ["config", "-l", "--show-origin"],
    ]
    for step in steps:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
        ours, theirs = twins.both(*step)
        assert ours.stdout == theirs.stdout, step
    twins.same_files(".dvc/config", ".dvc/config.local")


def test_comments_are_kept_and_bad_names_refused(project):
    project.write(".dvc/config", "# why\n[core]\n    # the remote\n    remote = foo\n")
    project.ok("config", "core.autostage", "true")
    assert project.read(".dvc/config").startswith("# why\n[core]\n    # the remote\n")
    for bad in (["core.nope", "1"], ["nodot"], ["-u", "core.checksum_jobs"]):
        result = project.cli("config", *bad)
        assert result.code == 1 and result.err.startswith("ERROR: "), bad


def test_global_level_outside_a_project(tmp_path, monkeypatch, project):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    from llmpipe.cli.main import main

    assert main(["config", "--global", "core.analytics", "false"]) == 0
    assert (tmp_path / "home/dvc/config").read_text() == "[core]\n    analytics = false\n"
