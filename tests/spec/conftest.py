"""Fixtures for the spec tests: write a small project tree into tmp_path."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """`project({"dvc.yaml": "...", ...})` writes dedented files; returns the root."""

    def write(files: dict[str, str], root: Path = tmp_path) -> Path:
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return root

    return write
