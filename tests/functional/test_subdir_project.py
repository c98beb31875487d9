"""A project in a sub-folder of a git work tree (`dvc init --subdir`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc

PIPELINE = """\
stages:
  make:
    cmd: mkdir -p models && echo trained > models/model.bin && echo x > out.txt
    deps: [data.txt]
    outs: [out.txt, models/model.bin]
"""


def subdir_project(base: Path) -> Path:
    """A git repository at `base` whose sub-folder `proj` is a DVC project."""
    project = base / "proj"
    project.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=base, check=True)
    subprocess.run(["dvc", "init", "--subdir", "-q"], cwd=project, check=True)
    (project / "data.txt").write_text("data\n")
    (project / "dvc.yaml").write_text(PIPELINE)
    return project


def run(command: list[str], cwd: Path) -> None:
    env = {**llmpipe_env(), **GIT_ENV}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


def gitignores(base: Path) -> dict[str, str]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(base):
        # .llmpipe/ keeps its own files out of git; compare what both tools write.
        dirnames[:] = [d for d in dirnames if d not in (".git", ".llmpipe", "cache", "tmp")]
        if ".gitignore" in filenames:
            path = Path(dirpath) / ".gitignore"
            found[str(path.relative_to(base))] = path.read_text()
    return found


@pytest.mark.dvc
@needs_dvc
def test_outputs_are_ignored_where_dvc_ignores_them(tmp_path: Path) -> None:
    theirs, ours = subdir_project(tmp_path / "theirs"), subdir_project(tmp_path / "ours")
    for command in (["add", "data.txt"], ["repro"]):
        run(["dvc", *command], theirs)
        run([sys.executable, "-m", "llmpipe", *command], ours)
    expected = gitignores(tmp_path / "theirs")
    assert "proj/models/.gitignore" in expected and "proj/.gitignore" in expected
    assert gitignores(tmp_path / "ours") == expected
    # And git agrees that nothing cached is left to commit.
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path / "ours",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "out.txt" not in status and "model.bin" not in status and "data.txt\n" not in status


def test_lineage_records_the_commit_of_the_enclosing_repository(tmp_path: Path) -> None:
    base, project = tmp_path, tmp_path / "proj"
    project.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=base, check=True)
    refused = subprocess.run(
        [sys.executable, "-m", "llmpipe", "init"], cwd=project, capture_output=True,
        text=True, env=llmpipe_env(),
    )  # fmt: skip
    assert refused.returncode != 0 and "llmpipe init --subdir" in refused.stderr
    run([sys.executable, "-m", "llmpipe", "init", "--subdir"], project)
    (project / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo 1 > o.txt\n    outs: [o.txt]\n")
    run(["git", "add", "-A"], base)
    run(["git", "commit", "-q", "-m", "init"], base)
    run([sys.executable, "-m", "llmpipe", "repro"], project)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=base, capture_output=True, text=True, check=True
    ).stdout.strip()
    from llmpipe.lineage.store import LineageStore

    records = LineageStore(str(project / ".llmpipe" / "lineage")).table().to_pylist()
    assert [r["git_commit"] for r in records] == [head]
    assert (project / ".gitignore").read_text() == "/o.txt\n"
