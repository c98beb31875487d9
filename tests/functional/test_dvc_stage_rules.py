"""Stage rules that llmpipe takes from dvc, checked against the real `dvc` on the same repo."""

from __future__ import annotations

import json
import shutil
import subprocess

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


SUB_PIPELINE = "stages:\n  o:\n    cmd: echo o > o.txt\n    outs: [o.txt]\n"


def test_a_dvc_yaml_without_stages_is_a_target_as_in_dvc(project):
    project.write("empty/dvc.yaml", "stages: {}\n")
    project.write("other/dvc.yaml", SUB_PIPELINE)
    assert project.run("dvc", "status", "empty/dvc.yaml").returncode == 0
    assert changed_in_dvc(project, "empty/dvc.yaml") == set()
    assert changed_in_llmpipe(project, "empty/dvc.yaml") == set()
    assert "up to date" in project.ok("status", "empty/dvc.yaml").out
    project.ok("dag", "empty/dvc.yaml")
    # dvc reproduces every pipeline when its targets select no stage; so does llmpipe.
    project.ok("repro", "empty/dvc.yaml")
    assert project.read("other/o.txt") == "o\n"
    assert project.cli("repro", "nothing/dvc.yaml").code != 0


def test_repro_without_a_root_dvc_yaml_fails_as_in_dvc(project):
    project.write("other/dvc.yaml", SUB_PIPELINE)
    theirs = project.run("dvc", "repro", check=False)
    assert theirs.returncode != 0 and "dvc.yaml' does not exist" in theirs.stderr
    result = project.cli("repro")
    assert result.code == 1
    assert f"'{project.path / 'dvc.yaml'}' does not exist" in result.err
    assert "-P/--all-pipelines" in result.err
    assert not (project.path / "other/o.txt").exists()
    project.ok("repro", "-P")
    assert project.read("other/o.txt") == "o\n"


def test_repro_without_targets_runs_the_root_pipeline_and_its_upstream(project):
    project.write("other/dvc.yaml", SUB_PIPELINE)
    project.write("up/dvc.yaml", "stages:\n  u:\n    cmd: echo u > u.txt\n    outs: [u.txt]\n")
    project.write(
        "dvc.yaml", "stages:\n  r:\n    cmd: cat up/u.txt > r.txt\n    deps: [up/u.txt]\n"
        "    outs: [r.txt]\n",
    )  # fmt: skip
    project.ok("repro")
    assert project.read("r.txt") == "u\n"
    assert not (project.path / "other/o.txt").exists()
    project.run("dvc", "repro")
    assert not (project.path / "other/o.txt").exists()
    assert changed_in_dvc(project) == {"other/dvc.yaml:o"} == changed_in_llmpipe(project)


FROZEN = """\
stages:
  up:
    cmd: cp in.txt mid.txt
    deps: [in.txt]
    outs: [mid.txt]
  fz:
    cmd: cp mid.txt out.txt
    deps: [mid.txt]
    outs: [out.txt]
  down:
    cmd: cp out.txt final.txt
    deps: [out.txt]
    outs: [final.txt]
"""


@pytest.fixture
def frozen(project):
    project.write("in.txt", "a\n")
    project.write("dvc.yaml", FROZEN)
    project.ok("repro")
    project.write(
        "dvc.yaml", FROZEN.replace("    outs: [out.txt]", "    outs: [out.txt]\n    frozen: true")
    )
    project.write("in.txt", "b\n")
    return project


def test_a_frozen_stage_with_missing_outputs_stops_repro_as_in_dvc(frozen):
    (frozen.path / "out.txt").unlink()
    assert changed_in_dvc(frozen) == {"up", "fz", "down"} == changed_in_llmpipe(frozen)
    lock = frozen.read("dvc.lock")
    theirs = frozen.run("dvc", "repro", "down", check=False)
    assert theirs.returncode != 0
    assert "failed to reproduce 'fz': missing data 'source': out.txt" in theirs.stderr
    result = frozen.cli("repro", "down")
    assert result.code == 1
    assert "failed to reproduce 'fz': missing data 'source': out.txt" in result.err
    assert frozen.read("mid.txt") == "a\n"  # nothing ran: the upstream of a frozen stage neither
    assert frozen.read("dvc.lock") == lock
    assert frozen.cli("repro").code == 1  # before running 'up', which dvc.yaml lists first


def test_a_frozen_stage_with_changed_outputs_is_recorded_as_in_dvc(frozen, tmp_path):
    theirs = tmp_path / "theirs"
    shutil.copytree(frozen.path, theirs, symlinks=True)
    for root in (frozen.path, theirs):
        (root / "out.txt").chmod(0o644)
        (root / "out.txt").write_text("changed\n")
    assert changed_in_dvc(frozen) == {"up", "fz", "down"} == changed_in_llmpipe(frozen)
    frozen.ok("repro", "down")
    assert frozen.read("final.txt") == "changed\n" and frozen.read("mid.txt") == "a\n"
    assert changed_in_dvc(frozen) == {"up"} == changed_in_llmpipe(frozen)
    subprocess.run(["dvc", "repro", "down"], cwd=theirs, check=True, capture_output=True)
    assert (theirs / "dvc.lock").read_text() == frozen.read("dvc.lock")
