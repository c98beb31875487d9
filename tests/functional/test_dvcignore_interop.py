""".dvcignore is honoured by every walk: add, status, repro outputs and deps, checkout,
with the same hashes as the real dvc, both ways."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def write_data(project) -> None:  # noqa: ANN001
    project.write(".dvcignore", "*.tmp\nscratch/\n")
    project.write("p/.dvcignore", "*.log\n!keep.log\n")
    project.write("p/data/a.txt", "a\n")
    project.write("p/data/x.tmp", "t\n")
    project.write("p/data/scratch/s.txt", "s\n")
    project.write("p/data/sub/b.txt", "b\n")
    project.write("p/data/sub/c.log", "c\n")
    project.write("p/data/sub/keep.log", "k\n")


def test_add_leaves_out_what_dvcignore_lists_as_dvc_does(project) -> None:
    write_data(project)
    project.ok("add", "p/data")
    ours = project.read("p/data.dvc")
    assert "nfiles: 3" in ours
    assert "up to date" in project.run("dvc", "status").stdout
    project.run("dvc", "remove", "p/data.dvc")
    project.run("dvc", "add", "p/data")
    assert project.read("p/data.dvc") == ours


def test_status_ignores_changes_to_ignored_files_after_dvc_add(project) -> None:
    write_data(project)
    project.run("dvc", "add", "p/data")
    project.write("p/data/x.tmp", "changed\n")
    project.write("p/data/scratch/new.txt", "new\n")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


def test_checkout_leaves_ignored_files_alone(project) -> None:
    write_data(project)
    project.ok("add", "p/data")
    (project.path / "p/data/a.txt").unlink()
    project.write("p/data/new.tmp", "ignored, not unsaved\n")
    project.ok("checkout")
    assert project.read("p/data/a.txt") == "a\n"
    assert project.read("p/data/new.tmp") == "ignored, not unsaved\n"
    assert project.read("p/data/x.tmp") == "t\n"
    assert "up to date" in project.run("dvc", "status").stdout


def test_repro_outputs_and_deps_leave_out_ignored_files(project) -> None:
    write_data(project)
    project.write(
        "dvc.yaml",
        "stages:\n"
        "  copy:\n"
        "    cmd: mkdir -p out && cp -r p/data/. out/ && echo junk > out/junk.tmp\n"
        "    deps: [p/data]\n"
        "    outs: [out]\n",
    )
    project.ok("repro")
    ours = project.read("dvc.lock")
    assert "up to date" in project.run("dvc", "status").stdout
    project.write("p/data/more.tmp", "ignored dep change\n")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."
    (project.path / "dvc.lock").unlink()
    project.run("dvc", "repro", "-f")
    assert project.read("dvc.lock") == ours


def test_a_dvcignore_inside_an_added_directory_is_refused_as_dvc_does(project) -> None:
    project.write("d/a.txt", "a\n")
    project.write("d/.dvcignore", "*.log\n")
    result = project.cli("add", "d")
    assert result.code == 1
    assert ".dvcignore file should not be in collected dir path" in result.err
    assert not (project.path / "d.dvc").exists()
    dvc = project.run("dvc", "add", "d", check=False)
    assert ".dvcignore file should not be in collected dir path" in dvc.stderr
