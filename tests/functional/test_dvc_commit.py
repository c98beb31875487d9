"""`llmpipe commit` records what `dvc commit` records, with the same refusals."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  s:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    params: [x]
    outs: [b.txt]
"""


@pytest.fixture
def twins(project, tmp_path):
    project.write("a.txt", "a\n")
    project.write("dvc.yaml", PIPELINE)
    project.write("params.yaml", "x: 1\n")
    project.write("d/x", "1\n")
    project.ok("add", "d")
    project.ok("repro")
    project.commit("one")
    return Twins(project, tmp_path)


def test_changed_stages_need_force_and_are_recorded_as_dvc_records_them(twins):
    twins.write("a.txt", "b\n")
    twins.write("b.txt", "zz\n")
    twins.write("d/y", "2\n")
    twins.both("commit")  # changed, no terminal to confirm: refused (exit 1)
    twins.same_files("dvc.lock", "d.dvc")
    twins.both("commit", "-f", "s")
    twins.same_files("dvc.lock", "d.dvc")
    twins.write("params.yaml", "x: 2\n")
    twins.both("commit", "-f")
    twins.same_files("dvc.lock", "d.dvc")
    assert twins.ours.cli("status").out.strip() == "Data and pipelines are up to date."


def test_dvc_file_keeps_its_comments_and_options(twins):
    text = twins.ours.read("d.dvc").replace("outs:", "# why\nouts:") + "  desc: the d  # note\n"
    twins.write("d.dvc", text)
    twins.write("d/z", "3\n")
    twins.both("commit", "-f", "d.dvc")
    twins.same_files("d.dvc")
    assert "# note" in twins.ours.read("d.dvc")


def test_unknown_target_and_output_target(twins):
    ours, _ = twins.both("commit", "nope")
    assert ours.stderr.startswith("ERROR: 'nope' does not exist")
    twins.write("b.txt", "other\n")
    twins.both("commit", "-f", "b.txt")
    twins.same_files("dvc.lock")


def test_recursive_commits_every_stage_defined_inside_a_directory(twins):
    twins.write(
        "sub/dvc.yaml", "stages:\n  inner:\n    cmd: echo in > in.txt\n    outs: [in.txt]\n"
    )
    twins.write("sub/in.txt", "in\n")
    twins.write("sub/deep/e.txt", "e\n")
    twins.shell(sys.executable, "-m", "llmpipe", "add", "sub/deep/e.txt")
    twins.write("sub/deep/e.txt", "changed\n")
    twins.write("b.txt", "outside\n")  # in the root stage: not committed
    twins.both("commit", "-f", "-R", "sub")
    twins.same_files("dvc.lock", "sub/dvc.lock", "sub/deep/e.txt.dvc", "d.dvc")
    assert "outside" not in twins.ours.read("dvc.lock")  # b.txt's old hash stays
    ours, _ = twins.both("commit", "-f", "sub")  # not a stage nor an output without -R
    assert ours.returncode == 1 and ours.stderr.startswith("ERROR: 'sub' does not exist")


def _link_state(root, relpath: str) -> tuple[bool, int, bool]:
    """(a symlink, hard links, writable): how a workspace file relates to the cache."""
    path = root / relpath
    st = path.lstat()
    return path.is_symlink(), st.st_nlink, bool(st.st_mode & 0o200)


def test_no_relink_leaves_the_workspace_files_and_copies_into_the_cache(twins):
    twins.both("config", "cache.type", "hardlink")
    twins.write("b.txt", "changed\n")
    twins.write("d/y", "2\n")
    twins.both("commit", "-f", "--no-relink")
    twins.same_files("dvc.lock", "d.dvc")
    for relpath in ("b.txt", "d/x", "d/y"):
        ours = _link_state(twins.ours.path, relpath)
        assert ours == _link_state(twins.theirs, relpath) == (False, 1, True), relpath
    # the new objects are in the cache (copies), as in dvc's
    theirs_cache = sorted(p.name for p in (twins.theirs / ".dvc/cache").rglob("*") if p.is_file())
    ours_cache = sorted(p.name for p in (twins.ours.path / ".dvc/cache").rglob("*") if p.is_file())
    assert set(theirs_cache) <= set(ours_cache)
    twins.write("b.txt", "again\n")
    twins.both("commit", "-f")  # relinked: the workspace file is now the cache's
    assert _link_state(twins.ours.path, "b.txt") == _link_state(twins.theirs, "b.txt")
