"""`exp` against the real dvc: each tool lists the other's experiments, the same way.

JSON is compared parsed and as bytes (dvc prints one line when piped); CSV
character for character.
"""

from __future__ import annotations

import json

import pytest

from tests.compare.experiments import build
from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def _same(project, *args: str) -> str:
    ours = project.llmpipe(*args)
    theirs = project.run("dvc", *args, check=False)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    if "--json" in args:
        assert json.loads(ours.stdout) == json.loads(theirs.stdout), args
    assert ours.stdout == theirs.stdout, args
    return ours.stdout


def test_dvc_lists_llmpipe_experiments_as_llmpipe_does(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.epochs=5")
    shown = json.loads(_same(project, "exp", "show", "--json"))
    assert {r["name"] for r in shown[1]["experiments"]} >= {"lr3"}
    for flags in (("-a",), ("-T",), ("--rev", "exp-a"), ("-n", "2")):
        _same(project, "exp", "show", "--json", *flags)
    _same(project, "exp", "show", "--csv")
    listed = project.run("dvc", "exp", "list", "--name-only").stdout.split()
    assert "lr3" in listed


def test_llmpipe_lists_dvc_experiments_as_dvc_does(project):
    build(project)
    project.run("dvc", "exp", "run", "-S", "train.lr=0.25", "-n", "by-dvc")
    project.git("checkout", "-q", "-f", "exp-a")
    project.run("dvc", "exp", "run", "-S", "train.epochs=2", "-n", "on-a")
    project.git("checkout", "-q", "-f", "main")
    project.run("dvc", "checkout", "-f", check=False)
    shown = json.loads(_same(project, "exp", "show", "--json", "-a"))
    names = {r["name"] for state in shown for r in state["experiments"] or ()}
    assert names == {"by-dvc", "on-a"}
    _same(project, "exp", "show", "--csv", "-a")
    _same(project, "exp", "show", "--json", "--rev", "exp-a")


def test_exp_list_and_diff_match_dvc_and_dvc_applies_llmpipe_experiments(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    for flags in ((), ("--name-only",), ("-A",), ("--sha-only",)):
        _same(project, "exp", "list", *flags)
    for revs in ((), ("main", "lr5"), ("lr3", "lr5"), ("exp-a", "lr3")):
        ours = json.loads(project.llmpipe("exp", "diff", *revs, "--json").stdout)
        assert ours == json.loads(project.run("dvc", "exp", "diff", *revs, "--json").stdout)
    project.run("dvc", "exp", "apply", "lr3")
    assert "lr: 0.3" in project.read("params.yaml")
    assert project.llmpipe("status").stdout.startswith("Data and pipelines are up to date")
    project.run("dvc", "exp", "remove", "lr5")
    assert project.llmpipe("exp", "list", "--name-only").stdout == "lr3\n"
