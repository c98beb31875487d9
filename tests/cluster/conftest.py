"""Fixtures of the cluster tests: the fan-out pipeline with a folder remote outside it."""

from __future__ import annotations

import pytest

from tests.cluster.pipelines import write_fanout


@pytest.fixture
def fanout(tmp_path, project):
    """prepare → 4 featurize → train → evaluate, committed, with a default folder remote."""
    write_fanout(project)
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit("remote")
    return project
