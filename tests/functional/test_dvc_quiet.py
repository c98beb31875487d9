"""`-q/--quiet` is accepted where dvc has it, and prints nothing on stdout, as dvc's."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]


@pytest.fixture
def twins(project, tmp_path):
    project.write("data.txt", "data\n")
    project.write("dvc.yaml", "stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
    project.ok("add", "data.txt")
    project.ok("repro")
    project.ok("config", "core.autostage", "false")
    project.commit("tracked")
    project.write("data.txt", "changed\n")
    return Twins(project, tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ("diff",),
        ("diff", "--json"),
        ("data", "status"),
        ("config", "core.autostage"),
        ("config", "-l"),
        ("ls", "."),
    ],  # fmt: skip
)
def test_quiet_silences_what_a_command_prints_as_dvc(twins, args):
    loud, _ = twins.both(*args)
    assert loud.stdout
    ours, theirs = twins.both(*args, "-q")
    assert ours.stdout == theirs.stdout == ""


@pytest.mark.parametrize("args", [("freeze", "s"), ("unfreeze", "s"), ("remove", "data.txt.dvc")])
def test_quiet_is_accepted_where_dvc_has_it(twins, args):
    ours, theirs = twins.both(*args, "-q")
    assert ours.stdout == theirs.stdout == ""
    twins.same_files("dvc.yaml", "data.txt.dvc", ".gitignore")
