"""One suite, every backend: local folder, S3 (moto server), SSH (OpenSSH server)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from llmpipe.errors import CryptoError, RemoteAuthError, RemoteConnectionError
from llmpipe.ops.transfer import TransferRequest, push
from llmpipe.progress import NoProgress
from llmpipe.repo import Repo

FILES = {"data/d/a.txt": "alpha\n", "data/d/sub/b.txt": "beta\n", "data/one.txt": "one\n"}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def object_key(text: str) -> str:
    value = md5(text)
    return f"files/md5/{value[:2]}/{value[2:]}"


def tracked(project, site, files=FILES):  # noqa: ANN001, ANN201
    for path, text in files.items():
        project.write(path, text)
    dirs = sorted({p.split("/")[0] + "/" + p.split("/")[1] for p in files if p.count("/") > 1})
    singles = [p for p in files if p.count("/") == 1]
    project.ok("add", *dirs, *singles)
    site.configure(project)
    return project


def forget_local(project) -> None:  # noqa: ANN001
    shutil.rmtree(project.path / ".dvc" / "cache")
    for path in ("data/d", "data/one.txt"):
        target = project.path / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()


def cloud(project) -> dict:  # noqa: ANN001
    return json.loads(project.ok("status", "-c", "--json").out)


def test_push_status_pull_round_trip(project, site) -> None:
    tracked(project, site)
    every = ("data/d", "data/d/a.txt", "data/d/sub/b.txt", "data/one.txt")  # dvc's names
    assert cloud(project) == dict.fromkeys(every, "new")
    assert "4 files pushed" in project.ok("push").out
    assert object_key("alpha\n") in site.objects()
    assert site.read(object_key("one\n")) == b"one\n"
    assert cloud(project) == {}
    assert "up to date" in project.ok("push").out
    forget_local(project)
    assert cloud(project) == dict.fromkeys(every, "deleted")
    project.ok("pull")
    for path, text in FILES.items():
        assert project.read(path) == text


def test_fetch_fills_the_cache_only(project, site) -> None:
    tracked(project, site)
    project.ok("push")
    forget_local(project)
    assert "4 files fetched" in project.ok("fetch").out
    assert not (project.path / "data/one.txt").exists()
    assert cloud(project) == {}
    project.ok("checkout")
    assert project.read("data/d/sub/b.txt") == "beta\n"


def test_partial_push_then_resume_moves_only_the_rest(project, site) -> None:
    tracked(project, site)
    assert "1 file pushed" in project.ok("push", "data/one.txt.dvc").out
    assert cloud(project) == dict.fromkeys(("data/d", "data/d/a.txt", "data/d/sub/b.txt"), "new")
    assert "3 files pushed" in project.ok("push").out
    assert len(site.objects()) == 4  # a.txt, b.txt, the .dir, one.txt


def test_corrupted_remote_object_is_reported_and_not_used(project, site) -> None:
    tracked(project, site)
    project.ok("push")
    site.write(object_key("alpha\n"), b"tampered\n")
    forget_local(project)
    result = project.cli("pull")
    assert result.code == 1
    assert md5("alpha\n") in result.err and "corrupt" in result.err
    repo = Repo(str(project.path))
    assert not repo.odb.exists(md5("alpha\n"))
    assert repo.odb.exists(md5("beta\n"))
    assert project.read("data/one.txt") == "one\n"


def test_missing_remote_object_is_reported(project, site) -> None:
    tracked(project, site)
    project.ok("push")
    site.delete(object_key("beta\n"))
    assert cloud(project) == {"data/d/sub/b.txt": "new"}
    forget_local(project)
    result = project.cli("fetch")
    assert result.code == 1
    assert md5("beta\n") in result.err and "not on the remote" in result.err


def test_wrong_credentials_give_an_auth_error(project, site) -> None:
    if site.bad_credentials is None:
        pytest.skip(f"{site.kind} remotes have no credentials")
    tracked(project, site)
    for key, value in site.bad_credentials.items():
        project.ok("remote", "modify", "--local", "store", key, value)
    result = project.cli("push")
    assert result.code == 1
    assert "refused access" in result.err and "store" in result.err
    assert site.objects() == []


@pytest.mark.parametrize("jobs", [1, 2])  # one job runs inline, without a thread pool
def test_server_stopped_mid_transfer_then_rerun_completes(project, site, jobs) -> None:
    if site.stop is None:
        pytest.skip(f"{site.kind} remotes have no server to stop")
    files = {f"data/d/f{i:03}.txt": f"content {i}\n" for i in range(60)}
    files["data/one.txt"] = "one\n"
    tracked(project, site, files)
    stopper = StopAfter(site.stop, 10)
    repo = Repo(str(project.path))
    try:
        with pytest.raises(RemoteConnectionError, match="cannot reach remote 'store'"):
            push(repo, TransferRequest(jobs=jobs), stopper)
    finally:
        site.start()
    assert stopper.seen >= 10
    assert sum(1 for _ in repo.odb.all_oids()) == 61 + 1  # nothing lost locally
    assert not any(key.endswith(".dir") for key in site.objects())
    project.ok("push")
    # A server killed mid-upload can leave the upload's temporary file behind (nothing can
    # remove it once the connection is gone); it never takes an object's name.
    names = [key for key in site.objects() if not key.endswith(".tmp")]
    assert len(names) == 62
    assert cloud(project) == {}


class StopAfter(NoProgress):
    """A progress object that stops the server once `count` objects have moved."""

    def __init__(self, stop, count: int) -> None:  # noqa: ANN001
        self.stop_server, self.count, self.seen = stop, count, 0

    def advance(self, n: int) -> None:
        self.seen += n
        if self.seen == self.count:
            self.stop_server()


def test_encrypted_remote_hides_names_and_contents(project, site, monkeypatch) -> None:
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", "11" * 32)
    tracked(project, site)
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    keys = site.objects()
    assert (
        all(k.startswith("llmpipe-encrypted/") for k in keys) and len(keys) == 5
    )  # four objects and the key check
    assert not any(md5(t) in k for t in FILES.values() for k in keys)
    assert not any(b"alpha" in site.read(k) for k in keys)
    forget_local(project)
    project.ok("pull")
    assert project.read("data/d/a.txt") == "alpha\n"

    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", "22" * 32)
    result = project.cli("fetch")
    assert result.code == 1 and "wrong key" in result.err
    monkeypatch.delenv("LLMPIPE_REMOTE_KEY")
    result = project.cli("fetch")
    assert result.code == 1 and "no key was found" in result.err


def test_encrypted_object_modified_on_the_remote_is_detected(project, site, monkeypatch) -> None:
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", "33" * 32)
    tracked(project, site)
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    repo = Repo(str(project.path))
    from llmpipe.remote.ops import open_layout

    layout = open_layout(repo, repo.config.remote(), create=False)
    key = layout.path(md5("one\n"))
    sealed = bytearray(site.read(key))
    sealed[-1] ^= 1
    site.write(key, bytes(sealed))
    forget_local(project)
    result = project.cli("pull")
    assert result.code == 1 and "failed authentication" in result.err
    assert not repo.odb.exists(md5("one\n"))
    with pytest.raises(CryptoError):
        layout.cipher.open_bytes(bytes(sealed), md5("one\n"))


def test_auth_error_is_a_remote_error_type(project, site) -> None:
    if site.bad_credentials is None:
        pytest.skip(f"{site.kind} remotes have no credentials")
    tracked(project, site)
    for key, value in site.bad_credentials.items():
        project.ok("remote", "modify", "--local", "store", key, value)
    with pytest.raises(RemoteAuthError):
        push(Repo(str(project.path)), TransferRequest())
