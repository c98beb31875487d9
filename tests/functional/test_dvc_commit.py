"""`llmpipe commit` records what `dvc commit` records, with the same refusals."""

from __future__ import annotations

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
