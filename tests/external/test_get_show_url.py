"""`get --show-url` prints the remote location dvc prints, and fails where dvc fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import Project, llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

CASES = [
    ("data/a.txt",),
    ("data/a.txt", "--rev", "v1"),
    ("data/dir",),  # the directory's .dir object
    ("data/dir/sub/y",),  # a file inside an output directory
    ("data/a.txt", "--remote", "other"),
    ("data/a.txt", "--remote", "missing"),
    ("README.md",),  # git's file: no object
    ("data/nope",),
    ("data/dir/nope",),
]


def _run(cmd: list[str], cwd: Path) -> tuple[bool, str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=llmpipe_env())
    return done.returncode != 0, done.stdout


def test_show_url_is_dvcs(registry: Project, tmp_path: Path) -> None:
    registry.ok("remote", "add", "other", str(tmp_path / "elsewhere"))
    registry.commit("another remote")
    url = str(registry.path)
    differ = []
    for args in CASES:
        mine = _run(["python", "-m", "llmpipe", "get", url, *args, "--show-url"], tmp_path)
        dvc = _run(["dvc", "get", url, *args, "--show-url"], tmp_path)
        if mine != dvc:
            differ.append((args, mine, dvc))
    assert not differ
    assert not list(tmp_path.glob("a.txt"))  # nothing downloaded
