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


def test_levels_merge_as_dvc_merges_them_and_push_uses_a_global_remote(
    project, tmp_path, monkeypatch
):
    """system < global < repo < local: a remote defined only in the user's config is the
    one `push` uses; the env vars dvc honours move the global and system files."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc") + ":/nonexistent")
    monkeypatch.delenv("DVC_GLOBAL_CONFIG_DIR", raising=False)
    monkeypatch.delenv("DVC_SYSTEM_CONFIG_DIR", raising=False)
    project.write("data.txt", "payload\n")
    project.ok("add", "data.txt")
    project.commit("data")
    for level, store in (("--system", "sys-store"), ("--global", "user-store")):
        project.ok("config", level, f"remote.{store}.url", str(tmp_path / store))
        project.ok("config", level, "core.remote", store)
    assert (tmp_path / "etc/dvc/config").is_file() and (tmp_path / "home/dvc/config").is_file()
    for level in ("--system", "--global"):
        ours = project.llmpipe("config", level, "-l")
        assert ours.stdout == project.run("dvc", "config", level, "-l").stdout
    assert project.ok("config", "core.remote").out == "user-store\n"
    project.ok("push")  # the global core.remote wins over the system one
    assert (tmp_path / "user-store").is_dir() and not (tmp_path / "sys-store").exists()
    assert project.run("dvc", "status", "-c").stdout.startswith("Cache and remote 'user-store'")
    # The project's own setting wins over both; config.local over the project's.
    project.ok("config", "core.remote", "sys-store")
    assert project.run("dvc", "config", "core.remote").stdout == "sys-store\n"
    project.ok("config", "--local", "core.remote", "user-store")
    assert "user-store" in project.ok("status", "-c").out
    # dvc's env vars move the files.
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "moved"))
    project.ok("config", "--global", "core.autostage", "true")
    assert (tmp_path / "moved/config").read_text() == "[core]\n    autostage = true\n"
    assert project.run("dvc", "config", "--global", "core.autostage").stdout == "true\n"
