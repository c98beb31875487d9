"""push, fetch, pull and `status -c` as the real dvc does them, on a folder remote."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def tracked_data(proj, remote) -> None:  # noqa: ANN001
    proj.write("data/f1", "1\n")
    proj.write("data/f2", "2\n")
    proj.write("data/sub/f3", "3\n")
    proj.write("one", "one\n")
    proj.run("dvc", "add", "-q", "data", "one")
    proj.run("dvc", "remote", "add", "-d", "store", str(remote))
    proj.run("dvc", "push", "-q")
    proj.commit("data")


def pull_story(proj, tool: str) -> list[list[str]]:  # noqa: ANN001
    def pull() -> list[str]:
        if tool == "dvc":
            return lines(proj.run("dvc", "pull").stdout)
        return lines(proj.ok("pull").out)

    seen = []
    shutil.rmtree(proj.path / ".dvc/cache")
    shutil.rmtree(proj.path / "data")
    (proj.path / "one").unlink()
    seen.append(pull())  # everything fetched and added
    seen.append(pull())  # nothing to do
    (proj.path / "data/f1").unlink()
    seen.append(pull())  # one file of a folder restored from the cache
    return seen


def test_pull_prints_dvcs_lines_and_summary(project, dvc_project, tmp_path) -> None:  # noqa: ANN001
    tracked_data(project, tmp_path / "remote-llmpipe")
    tracked_data(dvc_project, tmp_path / "remote-dvc")
    ours, theirs = pull_story(project, "llmpipe"), pull_story(dvc_project, "dvc")
    assert ours == theirs
    assert theirs[0] == ["A       data/", "A       one", "5 files fetched and 4 files added"]
    assert theirs[1] == ["Everything is up to date."]
    assert theirs[2] == ["M       data/", "1 file added"]
