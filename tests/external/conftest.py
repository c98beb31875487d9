"""A registry: a project whose data, params and metrics other projects read.

Two commits tagged `v1` and `v2` (HEAD); every object pushed to a folder remote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project, llmpipe_env, new_project

PIPELINE = """\
stages:
  train:
    cmd: >-
      echo '{"acc": 0.5}' > metrics.json
    params: [train.lr]
    metrics:
      - metrics.json:
          cache: false
  prep:
    cmd: echo prep > prep.txt
    params: [prep]
    outs: [prep.txt]
"""


@pytest.fixture
def registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    reg = new_project(tmp_path / "registry", capsys)
    reg.write("data/a.txt", "hello\n")
    reg.write("data/dir/x", "x\n")
    reg.write("data/dir/sub/y", "y\n")
    reg.write("README.md", "the registry\n")
    reg.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 2\nprep:\n  n: 1\n")
    reg.write("dvc.yaml", PIPELINE)
    reg.ok("add", "data/a.txt", "data/dir")
    reg.ok("repro")
    reg.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    reg.ok("push")
    reg.commit("v1")
    reg.git("tag", "v1")
    reg.write("data/a.txt", "hello again\n")
    reg.write("params.yaml", "train:\n  lr: 0.2\n  epochs: 2\nprep:\n  n: 1\n")
    reg.ok("add", "data/a.txt")
    reg.ok("repro")
    reg.ok("push")
    reg.commit("v2")
    reg.git("tag", "v2")
    return reg


def dvc_api(cwd: Path, code: str) -> object:
    """The JSON that `code` (using `dvc.api`, printing with `out(...)`) prints under dvc."""
    prelude = "import json, dvc.api\ndef out(value): print(json.dumps(value))\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=llmpipe_env(),
        check=True,
    )
    return json.loads(result.stdout)
