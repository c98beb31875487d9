"""A sweep on the reference LLM pipeline's tiny setting (needs torch)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ROOT

pytest.importorskip(
    "torch", reason="the reference pipeline needs torch (pip install 'llmpipe[llm]')"
)
pytestmark = pytest.mark.slow


def test_sweep_reference_pipeline_tiny(project, monkeypatch) -> None:  # noqa: ANN001
    # The stage code imports llmpipe (its checkpoint helper): this checkout's.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    if not (ROOT / "conf" / "config.yaml").exists() or not (ROOT / "pipelines" / "llm").exists():
        pytest.skip("the reference pipeline is not in this checkout")
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, project.path / name)
    shutil.copytree(ROOT / "conf", project.path / "conf")
    shutil.copytree(
        ROOT / "pipelines", project.path / "pipelines", ignore=shutil.ignore_patterns("__pycache__")
    )
    project.ok("init", "--hydra")
    project.commit("reference pipeline")
    tiny = ["data=tiny", "model=tiny", "evaluate=tiny", "train=tiny", "train.max_steps=20"]
    result = project.cli("sweep", *tiny, "train.lr=0.01,0.003", "-j", "2", "--json")
    record = json.loads(result.out)
    assert result.code == 0, [j.get("error") for j in record["jobs"]]
    assert [j["status"] for j in record["jobs"]] == ["succeeded", "succeeded"]
    assert "prepare" in record["shared_stages"]
    assert all(j["stages"].get("prepare") == "restored" for j in record["jobs"])
    assert all(j["metrics"] for j in record["jobs"])
