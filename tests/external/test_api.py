"""`llmpipe.api` answers what `dvc.api` answers on the same repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmpipe import api
from llmpipe.errors import PathMissingError, SourceError
from tests.conftest import ROOT, Project, llmpipe_env, needs_dvc
from tests.external.conftest import dvc_api

READS = [
    ("data/a.txt", None),
    ("data/a.txt", "v1"),
    ("data/dir/sub/y", "v1"),
    ("README.md", "v1"),
    ("metrics.json", "v1"),
]


@pytest.fixture
def inside(registry: Project):
    previous = os.getcwd()
    os.chdir(registry.path)
    yield registry
    os.chdir(previous)


@pytest.mark.parametrize(("path", "rev"), READS)
def test_read_in_the_project(inside: Project, path: str, rev: str | None) -> None:
    expected = {
        "data/a.txt": "hello again\n",
        "data/dir/sub/y": "y\n",
        "README.md": "the registry\n",
    }
    if rev == "v1" and path == "data/a.txt":
        expected[path] = "hello\n"
    content = api.read(path, rev=rev)
    if path in expected:
        assert content == expected[path]
    assert api.read(path, rev=rev, mode="rb") == content.encode()


def test_open_streams_from_the_cache_without_writing_the_workspace(inside: Project) -> None:
    (inside.path / "data" / "a.txt").unlink()
    with api.open("data/a.txt") as handle:
        assert handle.read() == "hello again\n"
    assert not (inside.path / "data" / "a.txt").exists()


def test_open_of_another_repo_fetches_from_its_remote(registry: Project, tmp_path: Path) -> None:
    url = f"file://{registry.path}"  # cloned: its cache is out of reach, the remote is not
    assert api.read("data/dir/x", repo=url, rev="v1") == "x\n"
    assert api.read("data/a.txt", repo=url) == "hello again\n"
    shutil.rmtree(registry.path / ".dvc" / "cache")
    assert api.read("data/a.txt", repo=str(registry.path), rev="v1") == "hello\n"


def test_errors(registry: Project) -> None:
    with pytest.raises(PathMissingError):
        api.read("nope.txt", repo=str(registry.path))
    with pytest.raises(FileNotFoundError):  # what dvc.api's FileMissingError also is
        api.read("data/nope", repo=str(registry.path))
    with pytest.raises(IsADirectoryError):
        api.read("data/dir", repo=str(registry.path), rev="v1")
    with pytest.raises(SourceError, match="unknown revision 'v9'"):
        api.read("data/a.txt", repo=str(registry.path), rev="v9")
    with pytest.raises(ValueError, match="Only reading"):
        api.open("data/a.txt", repo=str(registry.path), mode="w")
    with pytest.raises(SourceError, match="cannot clone"):
        api.read("x", repo=str(registry.path / "missing"))


def test_params_and_metrics_show(inside: Project) -> None:
    assert api.params_show() == {"train": {"lr": 0.2, "epochs": 2}, "prep": {"n": 1}}
    assert api.params_show(stages="train") == {"train": {"lr": 0.2}}
    assert api.params_show(rev="v1", stages=["prep"]) == {"prep": {"n": 1}}
    assert api.metrics_show() == {"acc": 0.5}
    rows = api.exp_show()
    assert {row["rev"] for row in rows} >= {"main"}


def test_import_llmpipe_stays_light() -> None:
    code = "import sys, llmpipe; print('llmpipe.external' in sys.modules or 'llmpipe.api' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=llmpipe_env(), cwd=ROOT
    )
    assert result.stdout.strip() == "False"


@needs_dvc
@pytest.mark.dvc
def test_same_answers_as_dvc_api(inside: Project) -> None:
    for path, rev in READS:
        theirs = dvc_api(inside.path, f"out(dvc.api.read({path!r}, rev={rev!r}))")
        assert api.read(path, rev=rev) == theirs, (path, rev)
    for call in (
        "params_show()",
        "params_show(stages='train')",
        "params_show(rev='v1')",
        "params_show(deps=True)",
        "metrics_show()",
        "metrics_show(rev='v1')",
    ):
        ours = eval(f"api.{call}")  # noqa: S307 - the literal calls above
        assert ours == dvc_api(inside.path, f"out(dvc.api.{call})"), call
