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
    project.ok("remote", "add", "b", "ssh://host/b")
    assert json.loads(project.ok("remote", "list", "--json").out) == [
        {"name": "a", "url": "/tmp/a", "default": True},
        {"name": "b", "url": "ssh://host/b", "default": False},
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
    no_url = project.cli("remote", "modify", "--unset", "a", "url")
    assert no_url.code != 0 and "needs a url" in no_url.err
    unknown = project.cli("remote", "modify", "zzz", "url", "/x")
    assert unknown.code != 0 and "not configured" in unknown.err
    project.ok("remote", "remove", "a")
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


COMMENTED = """\
# Project settings: edit with care

[core]
    # the default remote
    remote = origin  # set by ops
    autostage = true
[cache]
    type = reflink,copy
    dir = ../shared-cache
# team feature switches
[feature]
    Machine = false
['remote "origin"']
    url = ../store
    # the bucket moved in May
['remote "old"']
    url = s3://bucket/old
    region = eu-west-1
# end of file
"""
# dvc refuses a section its schema lacks, so only llmpipe's copy has this one.
UNKNOWN = "[mytool]\n    Mixed_Case = Kept As Is\n"
STEPS = [
    ("add", "-d", "backup", "../backup"),
    ("add", "s3r", "s3://bucket/path"),
    ("modify", "s3r", "endpointurl", "http://127.0.0.1:9000"),
    ("modify", "s3r", "profile", 'it\'s ok, "really"'),
    ("modify", "s3r", "sse", "a,b"),
    ("modify", "--local", "s3r", "region", "us-east-1"),
    ("default", "--local", "s3r"),
    ("default", "s3r"),
    ("remove", "old"),
    ("default", "--unset"),
    ("add", "-f", "origin", "s3://bucket/new"),
    ("remove", "--local", "s3r"),
    ("add", "Upper", "/abs/x"),
]


def without_comments_and(text: str, block: str) -> str:
    """`text` as dvc would have written it: no comment lines, no inline comments, no `block`."""
    if not text:
        return ""
    text = text.replace(block, "")
    lines = [line.split("    # ")[0] for line in text.splitlines()]
    kept = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return "".join(line + "\n" for line in kept) or "\n"


@pytest.mark.dvc
@needs_dvc
def test_edits_match_dvc_and_keep_comments_and_unknown_sections(project, tmp_path) -> None:
    theirs = dvc_project(tmp_path, "theirs")
    (theirs / ".dvc" / "config").write_text(COMMENTED)
    head, tail = COMMENTED.split("# team feature switches\n")
    (project.path / ".dvc" / "config").write_text(
        head + UNKNOWN + "# team feature switches\n" + tail
    )
    for step in STEPS:
        subprocess.run(["dvc", "remote", *step], cwd=theirs, check=True, capture_output=True)
        project.ok("remote", *step)
        for name in ("config", "config.local"):
            mine = read_or_empty(project.path / ".dvc" / name).decode()
            dvcs = read_or_empty(theirs / ".dvc" / name).decode()
            assert without_comments_and(mine, UNKNOWN) == dvcs, (step, name)
    mine = project.read(".dvc/config")
    assert UNKNOWN in mine
    # Every full-line comment survives, even those above removed keys and sections.
    for line in COMMENTED.splitlines():
        if line.lstrip().startswith("#"):
            assert line.strip() + "\n" in mine.replace("    #", "#"), line


def test_remote_add_keeps_a_note_line(project) -> None:
    config = project.path / ".dvc" / "config"
    config.write_text("[core]\n    autostage = true\n# note: ask ops before changing\n")
    project.ok("remote", "add", "-d", "origin", "/srv/store")
    assert config.read_text() == (
        "[core]\n    autostage = true\n    remote = origin\n"
        "['remote \"origin\"']\n    url = /srv/store\n# note: ask ops before changing\n"
    )


@pytest.mark.dvc
@needs_dvc
def test_file_modes_follow_dvc(project, tmp_path) -> None:
    theirs = dvc_project(tmp_path, "theirs")
    for root in (project.path, theirs):
        (root / ".dvc" / "config").unlink()
    subprocess.run(["dvc", "remote", "add", "a", "/srv/a"], cwd=theirs, check=True)
    project.ok("remote", "add", "a", "/srv/a")
    created = (theirs / ".dvc" / "config").stat().st_mode & 0o777
    assert (project.path / ".dvc" / "config").stat().st_mode & 0o777 == created
    for root in (project.path, theirs):
        (root / ".dvc" / "config").chmod(0o640)
    subprocess.run(["dvc", "remote", "add", "b", "/srv/b"], cwd=theirs, check=True)
    project.ok("remote", "add", "b", "/srv/b")
    assert (project.path / ".dvc" / "config").stat().st_mode & 0o777 == 0o640
    assert (theirs / ".dvc" / "config").stat().st_mode & 0o777 == 0o640
    # Unlike dvc (0644), a new .local file, which may hold secrets, is private.
    project.ok("remote", "add", "c", "ssh://host/c")
    project.ok("remote", "modify", "c", "password", "hunter2")
    assert (project.path / ".dvc" / "config.local").stat().st_mode & 0o777 == 0o600


def test_remove_local_leaves_the_shared_remote(project) -> None:
    project.ok("remote", "add", "-d", "s", "s3://b/p")
    project.ok("remote", "modify", "s", "secret_access_key", "pw")
    project.ok("remote", "remove", "--local", "s")
    assert "pw" not in project.read(".dvc/config.local")
    assert "url = s3://b/p" in project.read(".dvc/config")
    missing = project.cli("remote", "remove", "--local", "s")
    assert missing.code != 0 and "does not exist in .dvc/config.local" in missing.err


@pytest.mark.dvc
@needs_dvc
@pytest.mark.parametrize(
    ("url", "key", "value"),
    [
        ("/srv/store", "unknown_option", "v"),
        ("/srv/store", "password", "pw"),  # no password on a local remote
        ("s3://bucket/x", "account_name", "x"),  # an Azure option
        ("ssh://host/x", "port", "many"),
        ("s3://bucket/x", "jobs", "0"),
    ],
)
def test_modify_refuses_what_dvc_refuses_and_writes_nothing(
    project, tmp_path, url: str, key: str, value: str
) -> None:
    theirs = dvc_project(tmp_path, "theirs")
    subprocess.run(["dvc", "remote", "add", "r", url], cwd=theirs, check=True)
    project.ok("remote", "add", "r", url)
    before = {p: read_or_empty(p) for p in _config_files(project.path)}
    refused = subprocess.run(
        ["dvc", "remote", "modify", "r", key, value], cwd=theirs, capture_output=True
    )
    assert refused.returncode != 0
    result = project.cli("remote", "modify", "r", key, value)
    assert result.code == 1 and result.err.startswith("ERROR:") and f"'{key}'" in result.err
    assert {p: read_or_empty(p) for p in _config_files(project.path)} == before


def test_modify_accepts_what_dvc_accepts(project) -> None:
    project.ok("remote", "add", "r", "s3://bucket/x")
    for key, value in (("region", "us-east-1"), ("jobs", "4"), ("use_ssl", "False")):
        project.ok("remote", "modify", "r", key, value)
    project.ok("remote", "modify", "r", "encrypt", "true")  # llmpipe's own, in .llmpipe/


def _config_files(root) -> list:  # noqa: ANN001
    return [root / ".dvc" / "config", root / ".dvc" / "config.local", root / ".llmpipe" / "config"]
