"""`.gitignore` entries for outputs, written as dvc writes them (escaped; none where
git ignores the path already)."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

WEIRD = "file!with*weird#naming_[1].t?t"


def test_special_characters_are_escaped_as_dvc_escapes_them(project, tmp_path) -> None:
    project.write(WEIRD, "weird\n")
    project.write("file!with-other-naming_1.txt", "must stay visible to git\n")
    project.ok("add", WEIRD)
    ours = project.read(".gitignore")
    assert "/file\\!with\\*weird\\#naming_\\[1\\].t\\?t\n" in ours
    assert "file!with-other-naming_1.txt" in project.git("status", "--porcelain")
    project.run("dvc", "remove", f"{WEIRD}.dvc")
    project.run("dvc", "add", WEIRD)
    assert project.read(".gitignore") == ours


def test_a_path_git_already_ignores_gets_no_entry(project) -> None:
    project.write(".gitignore", "models/\n")
    project.git("add", ".gitignore")
    project.write("src.txt", "data\n")
    project.write(
        "dvc.yaml",
        "stages:\n"
        "  train:\n"
        "    cmd: mkdir -p models && cp src.txt models/clf\n"
        "    deps: [src.txt]\n"
        "    outs: [models/clf]\n"
        "  report:\n"
        "    cmd: ls models > report.txt\n"
        "    deps: [models]\n"
        "    outs: [report.txt]\n",
    )
    project.ok("repro")
    assert not (project.path / "models/.gitignore").exists()
    ours = project.read("dvc.lock")
    project.run("dvc", "repro", "-f")
    assert not (project.path / "models/.gitignore").exists()
    assert project.read("dvc.lock") == ours
    project.write("data.bin", "x\n")
    project.write(".gitignore", "models/\n*.bin\n")
    project.ok("add", "data.bin")
    assert project.read(".gitignore") == "models/\n*.bin\n"
