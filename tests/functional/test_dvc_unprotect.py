"""`unprotect` turns links to the cache into copies, with the modes dvc leaves."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import needs_dvc
from tests.functional.twins import Twins

pytestmark = [needs_dvc, pytest.mark.dvc]


def _facts(root, relpath):  # noqa: ANN001, ANN202
    path = root / relpath
    st = os.lstat(path)
    return stat.S_ISLNK(st.st_mode), st.st_nlink, stat.S_IMODE(st.st_mode), path.read_text()


@pytest.fixture(params=["symlink", "hardlink", "copy"])
def twins(request, project, tmp_path):
    project.ok("config", "cache.type", request.param)
    project.write("a.txt", "a\n")
    project.write("d/x", "x\n")
    project.write("d/sub/y", "y\n")
    project.ok("add", "a.txt", "d")
    project.commit("one")
    return Twins(project, tmp_path)


def test_unprotect_makes_editable_copies_as_dvc(twins):
    twins.both("unprotect", "a.txt", "d")
    for relpath in ("a.txt", "d/x", "d/sub/y"):
        ours = _facts(twins.ours.path, relpath)
        assert ours == _facts(twins.theirs, relpath), relpath
        assert ours[:2] == (False, 1)
    (twins.ours.path / "a.txt").write_text("edited\n")  # the cache is untouched
    twins.ours.ok("checkout", "--force", "a.txt.dvc")
    assert twins.ours.read("a.txt") == "a\n"


def test_unprotect_errors_as_dvc(twins):
    twins.write("untracked.txt", "u\n")
    twins.both("unprotect", "untracked.txt")  # dvc accepts any existing path
    ours = twins.ours.llmpipe("unprotect", "missing")
    theirs = twins.ours.run("dvc", "unprotect", "missing", check=False)
    assert (ours.returncode, theirs.returncode) == (1, 255)  # dvc's "unexpected error"
    assert ours.stderr == "ERROR: can't unprotect non-existing data 'missing'\n"
    assert "Replace links to the cache" in twins.ours.ok("unprotect", "--help").out
