"""`llmpipe stage add` writes the dvc.yaml (and .gitignore) bytes `dvc stage add` writes."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]

EVERY_FLAG = [
    "-n", "train", "-d", "src.py", "-d", "data", "-o", "model.pkl", "-O", "small.txt",
    "-p", "lr,epochs", "-p", "conf.yaml:x", "-p", "conf.yaml:", "-p", "other.yaml:",
    "-m", "m.json", "-M", "mm.json", "--plots", "p.csv", "--plots-no-cache", "pn.csv",
    "--outs-persist", "op", "--outs-persist-no-cache", "opn", "-w", "sub",
    "--always-changed", "--desc", "trains it", "python", "train.py", "--lr", "1",
]  # fmt: skip


@pytest.fixture
def twins(project, tmp_path):
    project.write("dvc.yaml", "# my pipeline\nstages:\n  a:\n    cmd: echo a  # why\n")
    (project.path / "sub").mkdir()
    project.commit("one")
    return Twins(project, tmp_path)


def test_every_flag_and_force_write_what_dvc_writes(twins):
    twins.both("stage", "add", *EVERY_FLAG)
    twins.both("stage", "add", "-n", "t4", "-p", "x", "-p", "params.yaml:z", "-d", "a b",
               "echo 'a: b'", "")  # fmt: skip
    twins.same_files("dvc.yaml", "sub/.gitignore")
    twins.both("stage", "add", "-f", "-n", "train", "-o", "out.txt", "-d", "src.py", "cp a b")
    twins.same_files("dvc.yaml", ".gitignore", "sub/.gitignore")
    assert "# why" in twins.ours.read("dvc.yaml")


def test_a_new_dvc_yaml(project, tmp_path):
    (project.path / "dvc.yaml").unlink(missing_ok=True)
    twins = Twins(project, tmp_path)
    twins.both("stage", "add", "-n", "s", "-o", "o.txt", "echo hi > o.txt")
    twins.same_files("dvc.yaml", ".gitignore")


def test_bad_input_is_refused_and_nothing_is_written(twins):
    before = twins.ours.read("dvc.yaml")
    cases = [
        ["-n", "a", "echo"],  # exists
        ["-n", "b@d", "echo"],
        ["-n", "t", "-o", "x", "-o", "x", "echo"],
        ["-n", "t", "-d", "x", "-o", "x", "echo"],
        ["-n", "t", "-w", "missing", "echo"],
    ]
    for case in cases:
        result = twins.ours.llmpipe("stage", "add", *case)
        assert result.returncode == 1 and result.stderr.startswith("ERROR: "), case
        assert len(result.stderr.strip().splitlines()) == 1
    twins.ours.ok("stage", "add", "-n", "one", "-o", "o.txt", "echo")
    result = twins.ours.llmpipe("stage", "add", "-n", "two", "-o", "o.txt", "echo")
    assert result.returncode == 1 and "o.txt" in result.stderr
    assert "two" not in twins.ours.read("dvc.yaml") and before in twins.ours.read("dvc.yaml")
