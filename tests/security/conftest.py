"""Security tests never touch the real home: keys live in a temporary config directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("LLMPIPE_KEY_FILE", raising=False)
    monkeypatch.delenv("LLMPIPE_KEY_PASSPHRASE", raising=False)
    return home
