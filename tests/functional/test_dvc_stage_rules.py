"""Stage rules that llmpipe takes from dvc, checked against the real `dvc` on the same repo."""

from __future__ import annotations

import json

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def changed_in_dvc(project, *targets: str) -> set[str]:
    """The stages `dvc status --json` reports."""
    return set(json.loads(project.run("dvc", "status", "--json", *targets).stdout or "{}"))


def changed_in_llmpipe(project, *targets: str) -> set[str]:
    entries = project.ok("status", "--json", *targets).out
    return set(json.loads(entries or "{}"))


def test_a_command_alone_runs_on_every_repro_as_in_dvc(project):
    project.write("dvc.yaml", "stages:\n  hello:\n    cmd: echo run >> runs.log\n")
    project.run("dvc", "repro")
    project.run("dvc", "repro")
    theirs = project.read("dvc.lock")
    assert project.read("runs.log") == "run\nrun\n"
    assert changed_in_dvc(project) == {"hello"} == changed_in_llmpipe(project)
    project.ok("repro")
    project.ok("repro")
    assert project.read("runs.log") == "run\n" * 4
    assert project.read("dvc.lock") == theirs
