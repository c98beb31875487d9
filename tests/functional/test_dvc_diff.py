"""`llmpipe diff` prints what `dvc diff` prints, on the same repository (text, JSON,
Markdown, exit status)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  s:
    cmd: echo hi > o.txt
    outs: [o.txt]
  m:
    cmd: echo 1 > m.json
    metrics: [{m.json: {cache: false}}]
"""


def same(project, *args: str) -> str:
    """Run `diff ARGS` under dvc and llmpipe; the output and exit status must agree."""
    env = llmpipe_env()
    theirs = subprocess.run(["dvc", "diff", *args], cwd=project.path, capture_output=True,
                            text=True, env=env)  # fmt: skip
    ours = project.llmpipe("diff", *args)
    assert (ours.stdout, ours.returncode) == (theirs.stdout, theirs.returncode), ours.stderr
    return ours.stdout


@pytest.fixture
def tracked(project):
    for name in ("f1", "f2", "f3"):
        project.write(f"data/{name}", name)
    project.write("single.txt", "x")
    project.ok("add", "data", "single.txt")
    project.commit("one")
    return project


FORMATS = [(), ("--json",), ("--md",), ("--show-hash",), ("--json", "--show-hash"),
           ("--md", "--show-hash")]  # fmt: skip


def test_workspace_changes_inside_a_directory(tracked):
    tracked.write("data/f1", "changed")
    (tracked.path / "data/f2").unlink()
    tracked.write("data/f4", "new")
    tracked.write("single.txt", "y")
    for fmt in FORMATS:
        out = same(tracked, *fmt)
        assert "data/f4" in out and "data/f2" in out


def test_between_two_revisions_and_no_change(tracked):
    tracked.write("data/f1", "changed")
    tracked.write("data/f5", "f2")  # same content as f2, which goes: a rename
    (tracked.path / "data/f2").unlink()
    tracked.ok("add", "data")
    tracked.commit("two")
    assert "renamed" in same(tracked, "HEAD~1", "HEAD", "--json")
    same(tracked, "HEAD~1", "HEAD")
    same(tracked, "HEAD~1", "HEAD", "--md")
    assert same(tracked, "HEAD", "HEAD", "--json").strip() == "{}"
    assert same(tracked).strip() == ""


def test_targets_narrow_the_comparison(tracked):
    tracked.write("data/f1", "changed")
    tracked.write("single.txt", "y")
    assert "single" not in same(tracked, "--targets", "data", "--json")
    same(tracked, "--targets", "data/f1", "--json")
    same(tracked, "--targets", "single.txt.dvc", "--json")


def test_unknown_directory_contents_renames_and_not_in_cache(project):
    project.write("dvc.yaml", PIPELINE)
    project.commit("pipeline")
    same(project, "--json")  # never run: the output is "deleted"
    project.write("o.txt", "hi\n")
    same(project, "--json")  # present but never recorded: "modified"
    (project.path / "o.txt").unlink()
    project.ok("repro")
    project.commit("ran")
    project.write("d/a", "1")
    project.write("d/b", "2")
    project.ok("add", "d")
    project.commit("dir")
    shutil.move(project.path / ".dvc/cache", project.path.parent / "cache")
    same(project, "HEAD~2", "--json")
    project.git("mv", "d.dvc", "e.dvc")
    (project.path / "e.dvc").write_text(project.read("e.dvc").replace("path: d", "path: e"))
    shutil.move(project.path / "d", project.path / "e")
    assert "not in cache" in same(project)
    shutil.move(project.path.parent / "cache", project.path / ".dvc/cache")
    same(project, "--json", "--show-hash")
    project.write("e/c", "3")
    (project.path / "e/a").unlink()
    same(project, "--json")


def test_bad_revision_and_target_are_one_line_errors(tracked):
    result = tracked.llmpipe("diff", "nope")
    assert result.returncode == 1 and result.stderr.startswith("ERROR: unknown revision 'nope'")
    result = tracked.llmpipe("diff", "--targets", "nope")
    assert result.returncode == 1 and "ERROR: 'nope' is not a tracked output" in result.stderr


def test_no_commits_yet_is_no_difference(project):
    project.write("x.txt", "x")
    project.ok("add", "x.txt")
    assert same(project, "--json").strip() == "{}"
