"""Fixtures for the reference LLM pipeline: temp git repositories holding a copy of it.

A repository is the pipeline's code (`pipelines/`), its `dvc.yaml` and a
`params.yaml` built from the `tiny` Hydra groups in `conf/`, so each full
`repro` takes seconds. The one fully built repository is shared by the session;
tests that change it work on a copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, llmpipe_env


def needs_torch() -> None:
    """Skip the calling test module when the `llm` extra (torch, safetensors) is missing."""
    pytest.importorskip("torch", reason="the reference pipeline needs: pip install -e '.[llm]'")
    pytest.importorskip(
        "safetensors", reason="the reference pipeline needs: pip install -e '.[llm]'"
    )


GROUPS = ("data", "model", "train", "evaluate")
OUTPUT_GITIGNORES = ("data/.gitignore", "models/.gitignore", "reports/.gitignore")


def tiny_params(**overrides: dict[str, Any]) -> dict[str, Any]:
    """params.yaml content of the `tiny` groups, with sections updated by `overrides`."""
    params = {
        group: yaml.safe_load((ROOT / "conf" / group / "tiny.yaml").read_text()) for group in GROUPS
    }
    for section, values in overrides.items():
        params[section].update(values)
    return params


class PipelineRepo:
    """A temp git repository that is an llmpipe project holding the reference pipeline."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def env(self) -> dict[str, str]:
        return llmpipe_env()

    def llmpipe(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "llmpipe", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=600,
        )

    def repro(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.llmpipe("repro", *args)
        assert result.returncode == 0, f"repro failed:\n{result.stdout}\n{result.stderr}"
        return result

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.path,
            capture_output=True,
            text=True,
            env=self.env(),
            check=check,
            timeout=600,
        )

    def write_params(self, params: dict[str, Any]) -> None:
        (self.path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def params(self) -> dict[str, Any]:
        return yaml.safe_load((self.path / "params.yaml").read_text())

    def update_params(self, section: str, **values: Any) -> None:
        params = self.params()
        params[section].update(values)
        self.write_params(params)

    def copy(self, destination: Path) -> PipelineRepo:
        shutil.copytree(self.path, destination, symlinks=True)
        return PipelineRepo(destination)


def make_repo(path: Path, params: dict[str, Any]) -> PipelineRepo:
    """A fresh, committed llmpipe project with the pipeline and `params`; nothing run yet."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    shutil.copytree(
        ROOT / "pipelines", path / "pipelines", ignore=shutil.ignore_patterns("__pycache__")
    )
    # The repository's own files: dvc.yaml, and the .gitignore files that keep the
    # outputs out of git even while a stage that will produce them is still running.
    for relpath in ("dvc.yaml", *OUTPUT_GITIGNORES):
        (path / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relpath, path / relpath)
    (path / ".gitignore").write_text("__pycache__/\n")
    repo = PipelineRepo(path)
    repo.write_params(params)
    init = repo.llmpipe("init")
    assert init.returncode == 0, init.stderr
    repo.run("git", "add", "-A")
    repo.run("git", "commit", "-q", "-m", "reference pipeline")
    return repo


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[PipelineRepo, str]:
    """The tiny pipeline after one full `llmpipe repro`, and that repro's stdout."""
    repo = make_repo(tmp_path_factory.mktemp("built") / "repo", tiny_params())
    return repo, repo.repro().stdout


@pytest.fixture
def built_copy(built: tuple[PipelineRepo, str], tmp_path: Path) -> PipelineRepo:
    return built[0].copy(tmp_path / "copy")


def ran_stages(stdout: str) -> set[str]:
    """Names of the stages a `repro` output says it ran."""
    return {line.split("'")[1] for line in stdout.splitlines() if line.startswith("Running stage")}
