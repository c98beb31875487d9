"""`llmpipe dag` draws what `dvc dag` draws: ASCII, DOT and Mermaid, character for character.

dvc's ASCII layout of a large graph with many crossings can vary from run to run
(grandalf iterates sets of objects); these graphs are ones dvc draws the same way
every time.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

FAN = """\
stages:
  prepare:
    cmd: cp raw.txt p.txt
    deps: [raw.txt]
    outs: [p.txt]
  train:
    foreach: [1, 2]
    do:
      cmd: cp p.txt m${item}.txt
      deps: [p.txt]
      outs:
        - m${item}.txt
  evaluate:
    cmd: cat m1.txt m2.txt > e.txt
    deps: [m1.txt, m2.txt]
    outs: [e.txt]
  lonely:
    cmd: echo hi > l.txt
    outs: [l.txt]
"""

SUB = """\
stages:
  report:
    cmd: cat ../e.txt ../features/a.txt > r.txt
    deps: [../e.txt, ../features]
    outs: [r.txt]
"""

FEATURES = """\
stages:
  features:
    cmd: mkdir -p features && cp p.txt features/a.txt
    deps: [p.txt]
    outs: [features/a.txt]
"""


@pytest.fixture
def pipeline(project):
    project.write("raw.txt", "x\n")
    project.run("dvc", "add", "-q", "raw.txt")
    project.write("dvc.yaml", FAN)
    return project


def _same(project, *args: str) -> str:
    theirs = project.run("dvc", "dag", *args).stdout
    assert project.llmpipe("dag", *args, check=True).stdout == theirs, args
    return theirs


def test_dag_matches_dvc(pipeline):
    for args in [(), ("--dot",), ("--mermaid",), ("--md",), ("train@1",), ("train", "--dot"),
                 ("--full", "train@1", "--mermaid"), ("--full", "evaluate")]:  # fmt: skip
        _same(pipeline, *args)


def test_default_is_dvcs_ascii_drawing(pipeline):
    drawn = _same(pipeline).splitlines()
    assert drawn[1].strip() == "| raw.txt.dvc |"
    assert "| lonely |" in drawn[-2]  # a stage of its own is a pipeline of its own


def test_sub_folders_and_directory_deps_match_dvc(pipeline):
    pipeline.write("more/dvc.yaml", FEATURES)
    pipeline.write(
        "more/sub/dvc.yaml", SUB.replace("../", "../../").replace("features", "more/features")
    )
    for args in ((), ("--dot",), ("--mermaid",), ("more/sub/dvc.yaml:report",)):
        _same(pipeline, *args)
    mermaid = _same(pipeline, "--mermaid")
    assert '\tnode1["evaluate"]' in mermaid and 'node8["lonely"]' in mermaid


def test_json_keeps_nodes_and_edges(pipeline):
    shown = json.loads(pipeline.ok("dag", "evaluate", "--json").out)
    assert shown["nodes"] == ["raw.txt.dvc", "prepare", "train@1", "train@2", "evaluate"]
    assert {"from": "prepare", "to": "train@2"} in shown["edges"]
