"""`move` renames tracked data, its `.dvc` file and .gitignore entries as `dvc move` does,
and refuses what dvc refuses."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = "stages:\n  s:\n    cmd: echo hi > o.txt\n    outs: [o.txt]\n"
DESCRIBED = """\
# kept only while the file keeps its name
desc: the raw data
outs:
- md5: 60b725f10c9c85c70d97880dfe8191b3
  size: 2
  hash: md5
  path: a.txt
  desc: one letter
meta:
  owner: me
"""


@pytest.fixture
def twins(project, tmp_path):
    project.write("a.txt", "a\n")
    project.write("d/x", "x\n")
    project.write("d/sub/y", "y\n")
    project.write("dvc.yaml", PIPELINE)
    project.ok("add", "a.txt", "d")
    project.ok("repro")
    (project.path / "sub").mkdir()
    project.commit("one")
    return Twins(project, tmp_path)


FILES = (".gitignore", "sub/.gitignore", "a.txt.dvc", "b.txt.dvc", "sub/b.txt.dvc", "d.dvc",
         "e.dvc", "sub/e.dvc", "b.txt", "sub/b.txt", "e/x", "sub/e/sub/y", "dvc.yaml")  # fmt: skip


@pytest.mark.parametrize(
    "steps",
    [
        [("a.txt", "b.txt")],
        [("a.txt", "b.txt"), ("b.txt", "sub")],
        [("d", "e"), ("e", "sub/")],
        [("a.txt", "sub/b.txt"), ("d", "sub/e")],
    ],
)
def test_move_writes_what_dvc_writes(twins, steps):
    for src, dst in steps:
        ours, _ = twins.both("move", src, dst)
        twins.same_files(*FILES)
    assert twins.ours.ok("status").out.strip() == "Data and pipelines are up to date."
    assert twins.ours.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."


def test_renamed_dvc_file_keeps_what_dvc_keeps(twins):
    twins.write("a.txt.dvc", DESCRIBED)
    twins.both("move", "a.txt", "sub/b.txt")
    twins.same_files(*FILES)
    assert "desc: one letter" in twins.ours.read("sub/b.txt.dvc")


def test_a_dvc_file_named_otherwise_is_edited_in_place(twins):
    twins.shell("mv", "a.txt.dvc", "letters.dvc")
    twins.write("letters.dvc", "# the letters\n" + twins.ours.read("letters.dvc"))
    twins.both("move", "a.txt", "sub/b.txt")
    twins.same_files(*FILES, "letters.dvc")
    assert twins.ours.read("letters.dvc").startswith("# the letters\n")
    assert "path: sub/b.txt" in twins.ours.read("letters.dvc")


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ("o.txt", "p.txt", "move is not permitted for stages that are not data sources"),
        ("nothere", "x", "Unable to find DVC file with output 'nothere'"),
        ("dvc.yaml", "x", "Unable to find DVC file with output 'dvc.yaml'"),
        ("d/x", "y", "Unable to find DVC file with output 'd/x'"),
        ("a.txt", "d", "'d/a.txt.dvc' already exists"),
        ("a.txt", "nodir/c.txt", "stage working dir"),
    ],
)
def test_move_refuses_what_dvc_refuses(twins, src, dst, message):
    if dst == "d":
        twins.write("d/a.txt.dvc", "outs: []\n")
    ours, _ = twins.both("move", src, dst)
    assert ours.returncode == 1
    assert ours.stderr.startswith(f"ERROR: failed to move '{src}' -> '{dst}' - ")
    assert message in ours.stderr and len(ours.stderr.strip().splitlines()) == 1
    twins.same_files(*FILES, "o.txt", "a.txt")


def test_move_help(project):
    assert "Move data tracked by a .dvc file" in project.ok("move", "--help").out


def test_moving_an_import_url_keeps_its_source_and_md5_right(twins):
    twins.write("inner/i.txt", "inside\n")
    twins.both("import-url", "inner/i.txt")
    twins.both("move", "i.txt", "sub/j.txt")
    twins.same_files("sub/j.txt.dvc", "sub/.gitignore", ".gitignore", "sub/j.txt")
    assert "path: ../inner/i.txt" in twins.ours.read("sub/j.txt.dvc")
    twins.both("update", "sub/j.txt.dvc")
    twins.same_files("sub/j.txt.dvc")
    assert twins.ours.ok("status").out.strip() == "Data and pipelines are up to date."
