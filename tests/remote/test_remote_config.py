"""`llmpipe remote …` writes .dvc/config exactly as `dvc remote …` does."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import needs_dvc


def dvc_project(tmp_path, name: str):  # noqa: ANN001, ANN201
    path = tmp_path / name
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=path, check=True)
    return path


@pytest.mark.dvc
@needs_dvc
def test_config_matches_dvc_byte_for_byte(project, tmp_path) -> None:
    theirs = dvc_project(tmp_path, "theirs")
    steps = [
        ("add", "-d", "origin", "../store"),
        ("add", "s3r", "s3://bucket/path"),
        ("modify", "s3r", "endpointurl", "http://127.0.0.1:9000"),
        ("modify", "--local", "s3r", "secret_access_key", "abc/def+ghi"),
        ("default", "s3r"),
        ("remove", "origin"),
    ]
    (project.path / ".dvc" / "config").write_text("")
    for step in steps:
        subprocess.run(["dvc", "remote", *step], cwd=theirs, check=True, capture_output=True)
        project.ok("remote", *step)
        for name in ("config", "config.local"):
            mine, dvcs = project.path / ".dvc" / name, theirs / ".dvc" / name
            assert read_or_empty(mine) == read_or_empty(dvcs), (step, name)


def read_or_empty(path) -> bytes:  # noqa: ANN001
    return path.read_bytes() if path.exists() else b""


@needs_dvc
@pytest.mark.dvc
def test_dvc_reads_what_llmpipe_lists(project) -> None:
    project.ok("remote", "add", "-d", "one", "/srv/one")
    project.ok("remote", "add", "two", "s3://b/two")
    project.ok("remote", "modify", "two", "encrypt", "true")  # llmpipe-only: not in .dvc/config
    assert "encrypt" not in project.read(".dvc/config")
    out = project.run("dvc", "remote", "list").stdout.split()
    assert out == ["one", "/srv/one", "(default)", "two", "s3://b/two"]


def test_list_default_modify_unset_and_errors(project) -> None:
    project.ok("remote", "add", "-d", "a", "/tmp/a")
    project.ok("remote", "add", "b", "/tmp/b")
    assert json.loads(project.ok("remote", "list", "--json").out) == [
        {"name": "a", "url": "/tmp/a", "default": True},
        {"name": "b", "url": "/tmp/b", "default": False},
    ]
    assert project.ok("remote", "default").out.strip() == "a"
    project.ok("remote", "default", "b")
    assert project.ok("remote", "default").out.strip() == "b"
    duplicate = project.cli("remote", "add", "a", "/tmp/x")
    assert duplicate.code != 0 and "already exists" in duplicate.err
    project.ok("remote", "modify", "b", "password", "hunter2")
    assert "hunter2" not in project.read(".dvc/config")
    assert "hunter2" in project.read(".dvc/config.local")
    project.ok("remote", "modify", "b", "key_file", "/keys/b")
    assert "key_file" in project.read(".llmpipe/config.local")
    assert "/config.local" in project.read(".llmpipe/.gitignore")
    project.ok("remote", "modify", "--unset", "a", "url")
    unknown = project.cli("remote", "modify", "zzz", "url", "/x")
    assert unknown.code != 0 and "not configured" in unknown.err
    project.ok("remote", "remove", "b")
    assert "remote" not in project.read(".dvc/config")
    assert project.cli("remote", "default").code != 0


def test_push_without_any_remote_says_how_to_add_one(project) -> None:
    project.write("data.txt", "x\n")
    project.ok("add", "data.txt")
    result = project.cli("push")
    assert result.code == 1 and "llmpipe remote add -d NAME URL" in result.err


def test_missing_backend_package_names_the_extra(project, monkeypatch) -> None:
    from llmpipe import storage

    monkeypatch.setitem(storage.PROTOCOLS, "gs", ("llmpipe_no_such_module", "X", "gs"))
    project.write("data.txt", "x\n")
    project.ok("add", "data.txt")
    project.ok("remote", "add", "-d", "g", "gs://bucket/x")
    result = project.cli("push")
    assert result.code == 1 and "pip install 'llmpipe[gs]'" in result.err


def test_relative_remote_paths_are_rebased_like_dvc(project) -> None:
    project.ok("remote", "add", "r", "../store")
    assert "url = ../../store" in project.read(".dvc/config")
