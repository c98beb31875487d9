"""The run-cache in dvc's layout and with dvc's keys: entries written by one tool restore
the stage in the other, locally and through push/pull --run-cache."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  train:
    cmd: >-
      python3 -c "import json; d = open('data.txt').read();
      open('model.txt', 'w').write(d * 2);
      json.dump({'size': len(d), 'lr': 0.1}, open('metrics.json', 'w'))"
    deps: [data.txt]
    params: [lr, size]
    outs: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""


def setup(project) -> None:  # noqa: ANN001
    project.write("data.txt", "data\n")
    project.write("params.yaml", "lr: 0.1\nsize: 3\n")  # `size` is left out of dvc's key too
    project.write("dvc.yaml", PIPELINE)


def runs(project) -> list[str]:  # noqa: ANN001
    folder = project.path / ".dvc/cache/runs"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def forget_run(project) -> None:  # noqa: ANN001
    """Keep the cache objects; lose the lock, the outputs and the run-cache."""
    for name in ("dvc.lock", "model.txt", "metrics.json"):
        (project.path / name).unlink()
    shutil.rmtree(project.path / ".dvc/cache/runs")


def test_run_cache_entries_have_dvcs_key_and_name(project) -> None:  # noqa: ANN001
    setup(project)
    project.ok("repro")
    ours = runs(project)
    assert len(ours) == 1
    forget_run(project)
    project.run("dvc", "repro")
    assert runs(project) == ours


def test_dvc_restores_from_what_llmpipe_pushed(project, tmp_path) -> None:  # noqa: ANN001
    setup(project)
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.ok("repro")
    project.ok("push", "--run-cache")
    forget_run(project)
    project.run("dvc", "fetch", "--run-cache")
    result = project.run("dvc", "repro")
    assert "Stage 'train' is cached - skipping run" in result.stdout
    assert project.read("model.txt") == "data\ndata\n"
    assert '"size": 5' in project.read("metrics.json")


def test_llmpipe_restores_from_what_dvc_pushed(project, tmp_path) -> None:  # noqa: ANN001
    setup(project)
    project.run("dvc", "remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.run("dvc", "repro")
    project.run("dvc", "push", "--run-cache")
    forget_run(project)
    project.ok("fetch", "--run-cache")
    result = project.ok("repro")
    assert "1 restored from run-cache" in result.out
    assert project.read("model.txt") == "data\ndata\n"
    assert '"size": 5' in project.read("metrics.json")
    assert "up to date" in project.run("dvc", "status").stdout
