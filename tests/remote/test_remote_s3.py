"""S3 specifics: where credentials come from, and what a missing or bad one says."""

from __future__ import annotations

import itertools

import pytest

_prefixes = itertools.count()


@pytest.fixture
def aws_home(tmp_path, monkeypatch):  # noqa: ANN201
    """An empty AWS environment: no keys in the environment, files under tmp_path."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "aws-credentials"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return credentials


def s3_remote(project, moto_s3) -> None:  # noqa: ANN001
    project.write("data/a.txt", "alpha\n")
    project.ok("add", "data")
    url = f"s3://llmpipe-tests/creds{next(_prefixes)}"
    project.ok("remote", "add", "-d", "store", url)
    project.ok("remote", "modify", "store", "endpointurl", moto_s3.endpoint)


def test_a_named_profile_supplies_the_keys(project, moto_s3, aws_home) -> None:
    aws_home.write_text(
        f"[ci]\naws_access_key_id = {moto_s3.key_id}\naws_secret_access_key = {moto_s3.secret}\n"
    )
    s3_remote(project, moto_s3)
    project.ok("remote", "modify", "store", "profile", "ci")
    assert "2 files pushed" in project.ok("push").out


def test_keys_in_the_environment_are_used(project, moto_s3, aws_home, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret)
    s3_remote(project, moto_s3)
    assert "2 files pushed" in project.ok("push").out


def test_no_credentials_anywhere_is_a_clear_error(project, moto_s3, aws_home) -> None:
    s3_remote(project, moto_s3)
    result = project.cli("push")
    assert result.code == 1
    assert "no AWS credentials found" in result.err and "store" in result.err


def test_an_unknown_profile_is_named(project, moto_s3, aws_home) -> None:
    aws_home.write_text("[other]\naws_access_key_id = x\naws_secret_access_key = y\n")
    s3_remote(project, moto_s3)
    project.ok("remote", "modify", "store", "profile", "missing")
    result = project.cli("push")
    assert result.code == 1
    assert "missing" in result.err and "Traceback" not in result.err


def test_a_url_without_a_bucket_is_refused(project, moto_s3) -> None:
    project.write("data/a.txt", "alpha\n")
    project.ok("add", "data")
    project.ok("remote", "add", "-d", "store", "s3://")
    result = project.cli("push")
    assert result.code == 1 and "names no bucket" in result.err


def test_the_backend_lists_under_a_folder_or_everything(moto_s3) -> None:
    from llmpipe.config import RemoteConfig
    from llmpipe.remote.backends import open_backend

    remote = RemoteConfig(
        "store",
        f"s3://llmpipe-tests/listing{next(_prefixes)}",
        {
            "endpointurl": moto_s3.endpoint,
            "access_key_id": moto_s3.key_id,
            "secret_access_key": moto_s3.secret,
        },
    )
    backend = open_backend(remote)
    backend.put_bytes("files/md5/ab/cdef", b"x")
    backend.put_bytes("runs/r1", b"y")
    assert sorted(backend.list_files("")) == ["files/md5/ab/cdef", "runs/r1"]
    assert list(backend.list_files("files/")) == ["files/md5/ab/cdef"]
    assert list(backend.list_files("nothing")) == []
    assert backend.exists("runs/r1") and not backend.exists("runs/r2")
