"""`freeze`, `unfreeze` and `remove` change dvc.yaml, dvc.lock, `.dvc` and .gitignore
files as dvc's commands do."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  s:
    cmd: echo hi > o.txt  # why
    outs:
    - o.txt
    meta: 1
  t:
    cmd: echo t > t.txt
    outs: [t.txt]
"""
FILES = ("dvc.yaml", "dvc.lock", "a.txt.dvc", ".gitignore", "o.txt", "t.txt", "a.txt")


@pytest.fixture
def twins(project, tmp_path):
    project.write("dvc.yaml", PIPELINE)
    project.write("a.txt", "a\n")
    project.ok("add", "a.txt")
    project.ok("repro")
    project.commit("one")
    return Twins(project, tmp_path)


def test_freeze_and_unfreeze(twins):
    twins.both("freeze", "s", "a.txt.dvc")
    twins.same_files(*FILES)
    assert "frozen: true" in twins.ours.read("a.txt.dvc")
    twins.both("unfreeze", "s", "a.txt.dvc")
    twins.same_files(*FILES)
    ours, _ = twins.both("freeze", "nope")
    assert ours.stderr.startswith("ERROR: 'nope'")


def test_remove_keeps_outputs_unless_asked(twins):
    twins.both("remove", "s")
    twins.same_files(*FILES)
    twins.both("remove", "a.txt.dvc")
    twins.same_files(*FILES)
    twins.both("remove", "--outs", "t")  # the last stage: dvc.yaml and dvc.lock go
    twins.same_files(*FILES)
    assert not (twins.ours.path / "dvc.yaml").exists()
