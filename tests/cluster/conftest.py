"""Fixtures of the cluster tests: the fan-out pipeline with a folder remote outside it."""

from __future__ import annotations

import pytest

from tests.cluster.pipelines import write_fanout
from tests.hydra.conftest import hydra_project  # noqa: F401 - used by `swept`


@pytest.fixture
def fanout(tmp_path, project):
    """prepare → 4 featurize → train → evaluate, committed, with a default folder remote."""
    write_fanout(project)
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit("remote")
    return project


@pytest.fixture
def swept(hydra_project, tmp_path):  # noqa: F811
    """The Hydra sweep project of tests/hydra (prepare → train → evaluate), with a remote."""
    hydra_project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    hydra_project.commit("remote")
    return hydra_project
