"""The real `dvc` pulls what llmpipe pushed, and llmpipe pulls what `dvc push` wrote."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [pytest.mark.dvc, needs_dvc]


@pytest.fixture(params=["local", "s3"])
def dvc_site(request, tmp_path):  # noqa: ANN001, ANN201
    if request.param == "local":
        return request.getfixturevalue("local_site_at")(tmp_path / "remote")
    pytest.importorskip("dvc_s3", reason="dvc needs dvc-s3 for s3:// remotes")
    return request.getfixturevalue("moto_s3").site(f"dvc-{request.node.name[-8:-1]}")


def write_data(project) -> None:  # noqa: ANN001
    project.write("data/d/a.txt", "alpha\n")
    project.write("data/d/sub/b.txt", "beta\n")
    project.write("data/one.txt", "one\n")


def forget(project) -> None:  # noqa: ANN001
    shutil.rmtree(project.path / ".dvc" / "cache")
    shutil.rmtree(project.path / "data" / "d")
    (project.path / "data" / "one.txt").unlink()


def test_dvc_pulls_what_llmpipe_pushed(project, dvc_site) -> None:
    write_data(project)
    project.ok("add", "data/d", "data/one.txt")
    dvc_site.configure(project)
    project.ok("push")
    forget(project)
    project.run("dvc", "pull", "-q")
    assert project.read("data/d/sub/b.txt") == "beta\n"
    assert project.read("data/one.txt") == "one\n"
    assert "in sync" in project.run("dvc", "status", "-c").stdout


def test_llmpipe_pulls_what_dvc_pushed(project, dvc_site) -> None:
    write_data(project)
    project.run("dvc", "add", "-q", "data/d", "data/one.txt")
    dvc_site.configure(project)
    project.run("dvc", "push", "-q")
    assert project.ok("status", "-c", "--json").out.strip() == "{}"
    forget(project)
    project.ok("pull")
    assert project.read("data/d/a.txt") == "alpha\n"
    assert project.read("data/one.txt") == "one\n"
