"""The reference pipeline is a DVC pipeline too: `dvc` agrees with llmpipe and runs it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import needs_dvc
from tests.pipelines.conftest import make_repo, needs_torch, tiny_params

needs_torch()

pytestmark = [pytest.mark.dvc, needs_dvc]


def test_dvc_status_is_clean_after_llmpipe_repro(built_copy):
    result = built_copy.run("dvc", "status")
    assert "Data and pipelines are up to date." in result.stdout, result.stdout


def test_dvc_repro_runs_the_pipeline_and_llmpipe_agrees(tmp_path):
    repo = make_repo(tmp_path / "repo", tiny_params())
    result = repo.run("dvc", "repro", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((repo.path / "reports/metrics.json").read_text())
    assert metrics["test_perplexity"] < metrics["uniform_perplexity"] / 5
    status = repo.llmpipe("status")
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout
    assert "Running stage" not in repo.repro().stdout
