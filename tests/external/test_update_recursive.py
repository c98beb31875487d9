"""`update -R DIR` updates every import inside DIR, as `dvc update -R` does."""

from __future__ import annotations

import pytest

from tests.conftest import Project, needs_dvc
from tests.external.test_registry_cli import both, twin_consumers  # noqa: F401 (a fixture)

pytestmark = [needs_dvc, pytest.mark.dvc]

FILES = ("imp/a.txt.dvc", "imp/deep/d.dvc", "imp/z.dvc", "top.dvc", "imp/a.txt", "imp/deep/d/x")


def test_update_recursive_updates_the_imports_inside(registry: Project, twin_consumers) -> None:  # noqa: F811
    ours, theirs = twin_consumers
    url = str(registry.path)
    for proj in (ours, theirs):
        (proj.path / "imp" / "deep").mkdir(parents=True)
    for step in (
        ("import", url, "data/a.txt", "-o", "imp/a.txt", "--rev", "v1"),
        ("import", url, "data/dir", "-o", "imp/deep/d", "--rev", "v1"),
        ("import", url, "data/a.txt", "-o", "top", "--rev", "v1"),  # outside: left alone
    ):
        assert both(ours, theirs, *step) == (0, 0), step
    for proj in (ours, theirs):
        proj.write("imp/z", "z\n")
    assert both(ours, theirs, "add", "imp/z") == (0, 0)  # not an import: a warning only
    steps = [
        ("update", "imp", "--rev", "v2"),  # a directory without -R: refused by both
        ("update", "-R", "imp/a.txt.dvc", "--rev", "v2"),  # a file target as without -R
        ("update", "-R", "imp"),  # the imports updated, a warning for imp/z
        ("update", "-R", "nowhere"),
        ("update", "-R", "imp", "--rev", "v2"),  # imp/z is no import: no --rev (llmpipe
        # refuses before updating anything, dvc after updating the imports: files differ)
    ]
    for step in steps:
        mine, dvc = both(ours, theirs, *step)
        assert (mine == 0) == (dvc == 0), step
        if step == ("update", "-R", "imp"):
            warning = "WARNING: Could not update 'imp/z', it was never pushed to a remote"
            assert warning in ours.llmpipe(*step).stderr
        if step[2:4] == ("imp", "--rev"):
            continue
        for name in FILES:
            assert ours.path.joinpath(name).exists() == theirs.path.joinpath(name).exists(), name
            if ours.path.joinpath(name).is_file():
                assert ours.read(name) == theirs.read(name), (step, name)
    assert ours.read("imp/a.txt") == "hello again\n" and "rev: v1" in ours.read("top.dvc")
    assert "rev: v1" in ours.read("imp/deep/d.dvc")  # rev kept; rev_lock: v1's commit
