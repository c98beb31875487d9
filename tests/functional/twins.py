"""Two copies of one repository: the same command runs under llmpipe in one and under
the real `dvc` in the other, and the tests compare exit status and files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import llmpipe_env


class Twins:
    def __init__(self, project, tmp_path: Path) -> None:
        self.ours = project
        self.theirs = tmp_path / "theirs"
        shutil.copytree(project.path, self.theirs, symlinks=True)

    def both(self, *args: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
        """`llmpipe ARGS` here and `dvc ARGS` there (stdin closed); the exit status agrees."""
        ours = self.ours.llmpipe(*args)
        theirs = subprocess.run(["dvc", *args], cwd=self.theirs, capture_output=True, text=True,
                                env=llmpipe_env(), stdin=subprocess.DEVNULL)  # fmt: skip
        assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
        return ours, theirs

    def write(self, relpath: str, text: str) -> None:
        for root in (self.ours.path, self.theirs):
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_text(text)

    def shell(self, *command: str) -> None:
        for root in (self.ours.path, self.theirs):
            subprocess.run(command, cwd=root, check=True, capture_output=True, env=llmpipe_env())

    def same_files(self, *relpaths: str) -> None:
        for relpath in relpaths:
            ours, theirs = self.ours.path / relpath, self.theirs / relpath
            assert ours.exists() == theirs.exists(), relpath
            if theirs.is_file():
                assert ours.read_bytes() == theirs.read_bytes(), relpath
