"""Security tests never touch the real home: keys live in a temporary config directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_keys(key_home: Path) -> Path:
    return key_home
