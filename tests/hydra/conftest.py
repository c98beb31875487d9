"""A small Hydra project: conf/ with a `model` group, a 3-stage pipeline counting its runs."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = """\
defaults:
  - model: tiny
  - _self_
train:
  lr: 0.1
  epochs: 2
prep:
  n: 3
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python prepare.py
    params: [prep.n]
    outs: [data.txt]
  train:
    cmd: python train.py
    deps: [data.txt, train.py]
    params: [train, model]
    outs: [model.txt]
  evaluate:
    cmd: python evaluate.py
    deps: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""

# prepare appends to a counter file outside the project: one line per execution.
PREPARE = "open({counter!r}, 'a').write('x\\n')\nopen('data.txt', 'w').write('3')\n"
TRAIN = """\
import yaml
p = yaml.safe_load(open("params.yaml"))
open("model.txt", "w").write(str(p["train"]["lr"] * p["model"]["layers"]))
"""
EVALUATE = """\
import json
v = float(open("model.txt").read())
json.dump({"loss": 1 / v, "acc": v}, open("metrics.json", "w"))
"""


def write_pipeline(project, counter: Path) -> None:  # noqa: ANN001
    project.write("dvc.yaml", DVC_YAML)
    project.write("prepare.py", PREPARE.format(counter=str(counter)))
    project.write("train.py", TRAIN)
    project.write("evaluate.py", EVALUATE)


class HydraProject:
    def __init__(self, project, counter: Path) -> None:  # noqa: ANN001
        self.p = project
        self.counter = counter

    def prepare_runs(self) -> int:
        return len(self.counter.read_text().splitlines()) if self.counter.exists() else 0

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.p, name)


@pytest.fixture
def hydra_project(project, tmp_path: Path) -> HydraProject:  # noqa: ANN001
    counter = tmp_path / "prepare-count"
    project.ok("init", "--hydra")
    project.write("conf/config.yaml", CONFIG)
    project.write("conf/model/tiny.yaml", "layers: 1\n")
    project.write("conf/model/small.yaml", "layers: 4\n")
    write_pipeline(project, counter)
    project.commit("pipeline")
    return HydraProject(project, counter)


@pytest.fixture
def plain_project(project, tmp_path: Path) -> HydraProject:  # noqa: ANN001
    """The same pipeline without Hydra: params.yaml is written by hand."""
    counter = tmp_path / "prepare-count"
    project.write(
        "params.yaml",
        "# hand-written\ntrain:\n  lr: 0.1  # learning rate\n  epochs: 2\nmodel:\n  layers: 1\nprep:\n  n: 3\n",
    )
    write_pipeline(project, counter)
    project.commit("pipeline")
    return HydraProject(project, counter)
