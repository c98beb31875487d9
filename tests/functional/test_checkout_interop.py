"""`checkout` as the real dvc does it: file modes, what it prints, branch switches."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def mode(project, relpath: str) -> int:  # noqa: ANN001
    return stat.S_IMODE(os.stat(project.path / relpath).st_mode)


def under_umask(project, umask: str, *command: str) -> None:  # noqa: ANN001
    """Run `command` in the project with `umask` set (llmpipe from this checkout)."""
    import subprocess

    subprocess.run(
        ["sh", "-c", f'umask {umask} && exec "$@"', "sh", *command],
        cwd=project.path,
        env=llmpipe_env(),
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("umask", ["022", "077"])
def test_files_get_dvcs_modes_exec_bit_included(project, umask) -> None:  # noqa: ANN001
    project.write("run.sh", "#!/bin/sh\necho hi\n")
    project.write("plain.txt", "plain\n")
    os.chmod(project.path / "run.sh", 0o755)
    project.run("dvc", "add", "run.sh", "plain.txt")
    modes = {}
    for tool in (("dvc",), ("python", "-m", "llmpipe")):
        for name in ("run.sh", "plain.txt"):
            (project.path / name).unlink()
        under_umask(project, umask, *tool, "checkout")
        modes[tool[0]] = (mode(project, "run.sh"), mode(project, "plain.txt"))
    assert modes["python"] == modes["dvc"]
    assert modes["dvc"] == ((0o744, 0o644) if umask == "022" else (0o700, 0o600))
