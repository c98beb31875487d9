"""Helpers shared by the security tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def chain_file(root: Path) -> Path:
    """The one chain file of a project's audit log."""
    found = sorted((root / ".llmpipe" / "audit").glob("*.jsonl"))
    assert len(found) == 1, found
    return found[0]


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def use_key_file(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setenv("LLMPIPE_KEY_FILE", os.fspath(path))
