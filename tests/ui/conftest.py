"""Fixtures of the dashboard's tests: the experiments project, and the ASGI test client."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ui.experiments_project import build

pytest.importorskip("starlette", reason="the dashboard needs: pip install -e '.[ui]'")
pytest.importorskip("httpx2", reason="starlette's TestClient needs: pip install -e '.[dev]'")


@pytest.fixture(scope="session")
def experiments_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 branches and a 6-job sweep (tests/ui/experiments_project.py); do not change it."""
    return build(tmp_path_factory.mktemp("experiments") / "repo")


@pytest.fixture
def experiments_copy(experiments_project: Path, tmp_path: Path) -> Path:
    """A copy of the experiments project that a test may change."""
    return Path(shutil.copytree(experiments_project, tmp_path / "repo", symlinks=True))


@pytest.fixture
def client() -> Callable[..., Any]:
    """`client(root, **options)`: a TestClient of the dashboard of `root`."""
    from starlette.testclient import TestClient

    from llmpipe.ui import UiOptions, create_app

    def make(root: Path, **options: Any) -> TestClient:
        options.setdefault("allowed_hosts", ("testserver",))
        return TestClient(create_app(UiOptions(str(root), **options)))

    return make
