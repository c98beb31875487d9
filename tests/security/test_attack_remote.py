"""Attacks on remotes (issue #12, items 7, 9 and 10), each run through the CLI.

- A commit that drops `encrypt = true` must not make the next push upload plaintext
  (or the audit trail) to a remote that was encrypted, nor read it as plain.
- `push`, `pull` and `decrypt` in the access policy are enforced by the operations
  themselves, so the Python API is covered as well as the CLI.
- Encrypted remotes (format v2) stretch a passphrase with scrypt (parameters stored on
  the remote) and give every object its own HKDF key, so chunk nonces (a counter and a
  last-chunk flag) never repeat under one key. Remotes written by the v1 code still pull.

The v2 construction is checked against an independent implementation written here from
docs/remotes.md, and the v1 remote is built here with the old construction.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pytest
from security_helpers import use_key_file

from llmpipe.cache.progress import NoProgress
from llmpipe.errors import AccessError, LlmpipeError
from llmpipe.remote import TransferRequest, fetch, push
from llmpipe.repo import Repo
from llmpipe.security import keys
from tests.remote import conftest as remote_sites
from tests.remote.conftest import RemoteSite, local_site

# The real S3 (moto) and SSH servers of the remote tests, as fixtures of this module.
moto_s3 = remote_sites.moto_s3
openssh = remote_sites.openssh

HEX_KEY = "5a" * 32
PASSPHRASE = "correct horse battery staple"
KEYCHECK = "llmpipe-encrypted/keycheck"
CHUNK = 1 << 20


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def track(project, files: dict[str, bytes]) -> None:  # noqa: ANN001
    for path, data in files.items():
        target = project.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    project.ok("add", *files)


def forget_local(project, *paths: str) -> None:  # noqa: ANN001
    shutil.rmtree(project.path / ".dvc" / "cache")
    for path in paths:
        (project.path / path).unlink()


def drop_encrypt_and_commit(project) -> None:  # noqa: ANN001
    """The attack of item 7: a commit removes `encrypt = true` from .llmpipe/config."""
    config = project.path / ".llmpipe" / "config"
    kept = [line for line in config.read_text().splitlines() if "encrypt" not in line]
    config.write_text("\n".join(kept) + "\n")
    project.commit("drop encryption")


# ------------------------------------------------------------------ item 7: sticky encryption


@pytest.fixture(params=["local", "s3", "ssh"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> RemoteSite:
    """Each backend in turn, at a fresh empty location (a prefix of its own on S3)."""
    if request.param == "local":
        return local_site(tmp_path / "remote")
    if request.param == "s3":
        return request.getfixturevalue("moto_s3").site(f"attack-{uuid.uuid4().hex[:12]}")
    root = tmp_path / "sshremote"
    root.mkdir()
    return request.getfixturevalue("openssh").site(root)


def encrypted_and_pushed(project, site: RemoteSite, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", HEX_KEY)
    keys.generate_key("alice")  # signed audit records, which push shares with plain remotes
    track(project, {"data/a.txt": b"secret alpha\n"})
    site.configure(project)
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.commit("encrypted remote")
    project.ok("push")
    assert KEYCHECK in site.listing()


def assert_nothing_plain(site: RemoteSite) -> None:
    listing = site.listing()
    assert all(key.startswith("llmpipe-encrypted/") for key in listing), listing
    assert not any(b"secret" in site.read(key) for key in listing)


def test_push_after_a_commit_drops_encrypt_is_refused(project, site, monkeypatch) -> None:  # noqa: ANN001
    encrypted_and_pushed(project, site, monkeypatch)
    drop_encrypt_and_commit(project)
    track(project, {"data/b.txt": b"secret beta\n"})
    result = project.cli("push")
    assert result.code != 0
    assert f"remote 'store' ({site.url}) is encrypted" in result.err
    assert "llmpipe remote modify store encrypt true" in result.err
    assert_nothing_plain(site)


def test_reading_an_encrypted_remote_as_plain_is_refused(project, site, monkeypatch) -> None:  # noqa: ANN001
    encrypted_and_pushed(project, site, monkeypatch)
    drop_encrypt_and_commit(project)
    forget_local(project, "data/a.txt")
    for command in (["fetch"], ["pull"], ["status", "-c"]):
        result = project.cli(*command)
        assert result.code != 0, command
        assert "is encrypted" in result.err and "encrypt true" in result.err, command
    assert not (project.path / "data" / "a.txt").exists()


def test_audit_trail_is_never_uploaded_to_an_encrypted_remote(
    project, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    site = local_site(tmp_path / "remote")
    encrypted_and_pushed(project, site, monkeypatch)
    drop_encrypt_and_commit(project)
    project.git("rm", "-q", "data/a.txt.dvc")
    project.commit("no data left: push only shares the audit trail")
    result = project.cli("push")
    assert result.code != 0 and "is encrypted" in result.err
    assert_nothing_plain(site)

    from llmpipe.remote.audit_sync import pull_audit, push_audit
    from llmpipe.remote.config import get_remote

    repo = Repo(str(project.path))
    for share in (push_audit, pull_audit):
        with pytest.raises(LlmpipeError, match="is encrypted"):
            share(repo, get_remote(repo))
    assert_nothing_plain(site)


def test_plain_remotes_still_work_and_carry_the_audit_trail(project, tmp_path) -> None:  # noqa: ANN001
    keys.generate_key("alice")
    track(project, {"data/a.txt": b"alpha\n"})
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.ok("push")
    assert (tmp_path / "remote" / "llmpipe" / "audit").is_dir()
    forget_local(project, "data/a.txt")
    project.ok("pull")
    assert project.read("data/a.txt") == "alpha\n"


# ------------------------------------------------------------------ item 9: push/pull/decrypt


@pytest.fixture
def team(project, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """alice (admin) pushed data to a plain and an encrypted remote; bob is not a member yet."""
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", HEX_KEY)
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    use_key_file(monkeypatch, alice.path)
    project.ok("policy", "init", "--name", "alice")
    track(project, {"data/a.txt": b"alpha\n"})
    project.ok("remote", "add", "-d", "open", str(tmp_path / "open"))
    project.ok("remote", "add", "sealed", str(tmp_path / "sealed"))
    project.ok("remote", "modify", "sealed", "encrypt", "true")
    project.ok("push", "-r", "open")
    project.ok("push", "-r", "sealed")
    return project, bob


def as_member(project, monkeypatch, bob, *permissions: str) -> None:  # noqa: ANN001
    """Make bob a member whose only role grants `permissions`, and use his key."""
    project.ok("policy", "set-role", "limited", *permissions)
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "limited")
    use_key_file(monkeypatch, bob.path)


def last_audit_record(project) -> dict:  # noqa: ANN001
    return json.loads(project.ok("audit", "log", "--json").out)[-1]


def test_push_needs_the_push_permission(team, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    project, bob = team
    as_member(project, monkeypatch, bob, "pull", "decrypt")
    assert project.cli("policy", "check", "push").code == 1
    track(project, {"data/b.txt": b"beta\n"})
    before = sorted(p.name for p in (tmp_path / "open").rglob("*"))
    result = project.cli("push")
    assert result.code != 0 and "'push' refused: bob" in result.err
    assert sorted(p.name for p in (tmp_path / "open").rglob("*")) == before
    assert last_audit_record(project)["result"] == "refused"
    with pytest.raises(AccessError, match="'push' refused"):
        push(Repo(str(project.path)), TransferRequest(), NoProgress())


def test_fetch_pull_and_cloud_status_need_the_pull_permission(team, monkeypatch) -> None:  # noqa: ANN001
    project, bob = team
    as_member(project, monkeypatch, bob, "register")
    forget_local(project, "data/a.txt")
    for command in (["fetch"], ["pull"], ["status", "-c"]):
        result = project.cli(*command)
        assert result.code != 0 and "'pull' refused: bob" in result.err, command
    assert not (project.path / "data" / "a.txt").exists()
    with pytest.raises(AccessError, match="'pull' refused"):
        fetch(Repo(str(project.path)), TransferRequest(), NoProgress())


def test_reading_an_encrypted_remote_needs_decrypt(team, monkeypatch) -> None:  # noqa: ANN001
    project, bob = team
    as_member(project, monkeypatch, bob, "pull")
    forget_local(project, "data/a.txt")
    for command in (
        ["fetch", "-r", "sealed"],
        ["pull", "-r", "sealed"],
        ["status", "-c", "-r", "sealed"],
    ):
        result = project.cli(*command)
        assert result.code != 0 and "'decrypt' refused: bob" in result.err, command
    assert not (project.path / "data" / "a.txt").exists()
    project.ok("pull", "-r", "open")  # pull alone is enough for a plain remote
    assert project.read("data/a.txt") == "alpha\n"


def test_a_reader_pulls_an_encrypted_remote_but_cannot_push(team, monkeypatch) -> None:  # noqa: ANN001
    project, bob = team
    as_member(project, monkeypatch, bob, "pull", "decrypt")
    forget_local(project, "data/a.txt")
    project.ok("pull", "-r", "sealed")
    assert project.read("data/a.txt") == "alpha\n"
    assert "'push' refused" in project.cli("push", "-r", "sealed").err


def test_a_key_that_is_no_member_cannot_push_or_pull(team, monkeypatch) -> None:  # noqa: ANN001
    project, bob = team
    use_key_file(monkeypatch, bob.path)
    assert "is not a member" in project.cli("push").err
    assert "is not a member" in project.cli("fetch").err
