"""llmpipe and the real `dvc` agree on the same repository."""

from __future__ import annotations

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
vars:
  - sizes: [1, 2]
stages:
  prepare:
    cmd: mkdir -p data/clean && cp raw/*.txt data/clean/ && echo ${train.lr} > lr.txt
    deps: [raw]
    outs: [data/clean, lr.txt]
  train:
    foreach: ${sizes}
    do:
      cmd: cat data/clean/a.txt lr.txt > model${item}.txt
      deps: [data/clean, lr.txt]
      params: [train.lr, train.epochs]
      outs:
        - model${item}.txt
  evaluate:
    cmd: >-
      python3 -c "import json; json.dump({'score': 0.5, 'n': 2}, open('metrics.json', 'w'))"
    deps: [model1.txt, model2.txt]
    params:
      - params.yaml:
    metrics:
      - metrics.json:
          cache: false
"""


@pytest.fixture
def shared(project):
    project.write("raw/a.txt", "alpha\n")
    project.write("raw/b.txt", "beta\n")
    project.write("raw/sub/c.txt", "gamma\n")
    project.write("params.yaml", "train:\n  lr: 0.001\n  epochs: 3\n  note: yes\nother: 1e-5\n")
    project.write("dvc.yaml", PIPELINE)
    return project


def test_dvc_status_is_clean_after_llmpipe_repro(shared):
    shared.ok("repro")
    result = shared.run("dvc", "status")
    assert "Data and pipelines are up to date" in result.stdout, result.stdout
    shared.run("dvc", "repro")  # nothing to do, must not rewrite outputs
    assert "Data and pipelines are up to date" in shared.run("dvc", "status").stdout


def test_llmpipe_status_is_clean_after_dvc_repro(shared):
    shared.run("dvc", "repro")
    assert shared.ok("status").out.strip() == "Data and pipelines are up to date."
    assert "up to date" in shared.ok("repro").out


def test_lock_files_are_identical(shared, tmp_path):
    shared.ok("repro")
    ours = shared.read("dvc.lock")
    (shared.path / "dvc.lock").unlink()
    shared.run("dvc", "repro", "-f")
    assert shared.read("dvc.lock") == ours


def test_dvc_checkout_works_from_llmpipe_cache(shared):
    shared.ok("repro")
    (shared.path / "data/clean/a.txt").unlink()
    (shared.path / "model1.txt").unlink()
    shared.run("dvc", "checkout")
    assert shared.read("data/clean/a.txt") == "alpha\n"
    assert shared.read("model1.txt") == "alpha\n0.001\n"


def test_llmpipe_checkout_restores_dvc_outputs(shared):
    shared.run("dvc", "repro")
    (shared.path / "model2.txt").unlink()
    shared.ok("checkout")
    assert shared.read("model2.txt") == "alpha\n0.001\n"


def test_add_matches_dvc_add(shared, tmp_path):
    shared.write("big/x.bin", "x" * 1000)
    shared.write("big/y/z.bin", "z")
    shared.ok("add", "big")
    ours = shared.read("big.dvc")
    shared.run("dvc", "remove", "big.dvc")
    shared.run("dvc", "add", "big")
    assert shared.read("big.dvc") == ours
    assert "up to date" in shared.run("dvc", "status", "big.dvc").stdout


def test_lock_rewrite_after_one_stage_keeps_dvc_format(shared):
    """Unchanged entries are reused verbatim; the file must still equal DVC's."""
    shared.ok("repro")
    shared.write("params.yaml", "train:\n  lr: 0.002\n  epochs: 3\n  note: yes\nother: 1e-5\n")
    shared.ok("repro")
    ours = shared.read("dvc.lock")
    (shared.path / "dvc.lock").unlink()
    shared.run("dvc", "repro", "-f")
    assert shared.read("dvc.lock") == ours
