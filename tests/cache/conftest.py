"""Fixtures for the cache tests: a fresh object store and state DB."""

from __future__ import annotations

import pytest

from llmpipe.cache.odb import ObjectDB
from llmpipe.cache.state import SqliteState
from llmpipe.pathguard import PathGuard


@pytest.fixture
def odb(tmp_path):
    return ObjectDB(str(tmp_path / "cache" / "files" / "md5"))


@pytest.fixture
def state(tmp_path):
    db = SqliteState(str(tmp_path / "state.db"))
    yield db
    db.close()


@pytest.fixture
def guard(tmp_path):
    """Checkouts in these tests write under tmp_path (the cache lives there too)."""
    return PathGuard(str(tmp_path))
