"""`ls --size`, `--show-hash`, `-T/--tree` and `-L/--level` print what dvc prints."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from llmpipe.cli.lsview import human_size
from tests.conftest import Project, llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

CASES = [
    ("--size",),
    ("--show-hash", "-R"),
    ("--size", "--show-hash", "-R", "--rev", "v1"),
    ("-T", "--size"),
    ("-T", "--size", "--show-hash", "--rev", "v1"),
    ("-T", "-L", "1", "--rev", "v2"),
    ("data", "-T", "--dvc-only", "--size"),
    ("-T", "--dvc-only", "--show-hash", "--size"),
    ("data/a.txt", "-T", "--size"),
    ("data/dir", "-T", "-L", "0"),
    ("-R", "-L", "2", "--json"),
    ("-R", "-L", "2", "--dvc-only", "--size"),
    ("data", "-R", "-L", "0", "--json"),
    ("-L", "1"),  # without -R, dvc ignores the level
    ("--dvc-only", "--json"),  # a folder holding outputs is listed
    ("-R", "--dvc-only", "--json"),  # recorded sizes, not the workspace's
    ("data/dir", "--rev", "v1", "--size", "--show-hash"),
    ("-T", "--json"),  # refused by both
]


def _run(cmd: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=llmpipe_env())
    return done.returncode != 0, done.stdout


def test_ls_text_flags_are_dvcs(registry: Project, tmp_path: Path) -> None:
    url = str(registry.path)
    differ = []
    for args in CASES:
        mine = _run(["python", "-m", "llmpipe", "ls", url, *args], tmp_path)
        dvc = _run(["dvc", "ls", url, *args], tmp_path)
        if mine != dvc:
            differ.append((args, mine, dvc))
    assert not differ


def test_human_size_is_dvcs() -> None:
    from dvc.utils.humanize import naturalsize

    sizes = [0, 1, 999, 1000, 1023, 1024, 1535, 10_230, 102_400, 1_023_487, 5 * 2**30, 2**80]
    assert [human_size(s) for s in sizes] == [naturalsize(s) for s in sizes]
