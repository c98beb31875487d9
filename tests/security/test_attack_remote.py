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
import hmac
import json
import os
import random
import shutil
import struct
import uuid
from pathlib import Path

import pytest
from security_helpers import use_key_file

from llmpipe.errors import AccessError, LlmpipeError
from llmpipe.ops.transfer import TransferRequest, fetch, push
from llmpipe.progress import NoProgress
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

    repo = Repo(str(project.path))
    for share in (push_audit, pull_audit):
        with pytest.raises(LlmpipeError, match="is encrypted"):
            share(repo, repo.config.remote())
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


# ------------------------------------------------------------------ item 10: key derivation


def hkdf(master: bytes, salt: bytes | None, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(master)


def read_v2_keycheck(blob: bytes) -> tuple[dict, bytes, bytes]:
    """(parameters, signed part, mac) of a v2 key-check blob."""
    magic, params_line, mac_hex, rest = blob.split(b"\n")
    assert magic == b"LLMPKEY2" and rest == b""
    return json.loads(params_line), magic + b"\n" + params_line, bytes.fromhex(mac_hex.decode())


def v2_master(params: dict, key_text: str) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if params["kdf"] == "none":
        return bytes.fromhex(key_text)
    assert params["kdf"] == "scrypt"
    salt = bytes.fromhex(params["salt"])
    kdf = Scrypt(salt=salt, length=32, n=2 ** params["log_n"], r=params["r"], p=params["p"])
    return kdf.derive(key_text.encode())


def v2_path(master: bytes, oid: str) -> str:
    name = hmac.new(hkdf(master, None, b"llmpipe remote v2 names"), oid.encode(), "sha256")
    digest = name.hexdigest()
    return f"llmpipe-encrypted/{digest[:2]}/{digest[2:]}"


def v2_open(master: bytes, blob: bytes, oid: str) -> bytes:
    """Decrypt a v2 object as docs/remotes.md describes it, independently of llmpipe."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert blob[:8] == b"LLMPENC2"
    salt, body = blob[8:40], blob[40:]
    aead = AESGCM(hkdf(master, salt, b"llmpipe remote v2 object " + oid.encode()))
    sealed = [body[i : i + CHUNK + 16] for i in range(0, len(body), CHUNK + 16)] or [b""]
    plain = []
    for index, chunk in enumerate(sealed):
        last = index == len(sealed) - 1
        nonce = index.to_bytes(11, "big") + bytes([last])
        plain.append(aead.decrypt(nonce, chunk, None))
    return b"".join(plain)


def big_file() -> bytes:
    return random.Random(12).randbytes(2 * CHUNK + 12345)  # three chunks, the last one short


def test_a_passphrase_is_stretched_with_scrypt_stored_on_the_remote(
    project, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", PASSPHRASE)
    files = {"data/small.txt": b"small secret\n", "data/big.bin": big_file()}
    track(project, files)
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")

    params, signed, mac = read_v2_keycheck((remote / KEYCHECK).read_bytes())
    assert params["kdf"] == "scrypt" and params["log_n"] >= 17 and params["r"] == 8
    assert len(bytes.fromhex(params["salt"])) == 16
    master = v2_master(params, PASSPHRASE)
    check_key = hkdf(master, None, b"llmpipe remote v2 key check")
    assert hmac.compare_digest(hmac.digest(check_key, signed, "sha256"), mac)

    salts = set()
    for data in files.values():
        blob = (remote / v2_path(master, md5(data))).read_bytes()
        assert v2_open(master, blob, md5(data)) == data
        salts.add(blob[8:40])
    assert len(salts) == 2  # every object its own salt, so its own key


def test_a_raw_hex_key_needs_no_kdf(project, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", HEX_KEY)
    track(project, {"data/big.bin": big_file()})
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    params, _, _ = read_v2_keycheck((remote / KEYCHECK).read_bytes())
    assert params == {"kdf": "none"}
    master = bytes.fromhex(HEX_KEY)
    oid = md5(big_file())
    assert v2_open(master, (remote / v2_path(master, oid)).read_bytes(), oid) == big_file()


def test_same_passphrase_elsewhere_reads_it_and_a_wrong_one_is_refused(
    project, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", PASSPHRASE)
    track(project, {"data/a.txt": b"alpha\n"})
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    forget_local(project, "data/a.txt")
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", PASSPHRASE + " and more")
    result = project.cli("pull")
    assert result.code != 0 and "wrong key" in result.err
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", HEX_KEY)
    result = project.cli("pull")
    assert result.code != 0 and "wrong key" in result.err
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", PASSPHRASE)
    project.ok("pull")
    assert project.read("data/a.txt") == "alpha\n"


def test_tampered_kdf_parameters_are_refused(project, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", PASSPHRASE)
    track(project, {"data/a.txt": b"alpha\n"})
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    keycheck = remote / KEYCHECK
    params, _, mac = read_v2_keycheck(keycheck.read_bytes())

    def rewrite(**changes) -> None:  # noqa: ANN003
        line = json.dumps({**params, **changes}, sort_keys=True, separators=(",", ":"))
        keycheck.write_bytes(b"LLMPKEY2\n" + line.encode() + b"\n" + mac.hex().encode() + b"\n")

    rewrite(log_n=40)  # would ask for terabytes of memory
    result = project.cli("fetch")
    assert result.code != 0 and "key-check" in result.err and "log_n" in result.err
    rewrite(salt="00" * 16)  # another salt: another master, so the check fails
    result = project.cli("fetch")
    assert result.code != 0 and "wrong key" in result.err


def test_an_object_moved_to_another_name_fails_authentication(
    project, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", HEX_KEY)
    track(project, {"data/a.txt": b"alpha\n", "data/b.txt": b"beta\n"})
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("remote", "modify", "store", "encrypt", "true")
    project.ok("push")
    master = bytes.fromhex(HEX_KEY)
    a, b = (remote / v2_path(master, md5(x)) for x in (b"alpha\n", b"beta\n"))
    sealed_a = a.read_bytes()
    b.unlink()  # a new file: never write through a link the remote may share
    b.write_bytes(sealed_a)
    forget_local(project, "data/a.txt", "data/b.txt")
    result = project.cli("pull")
    assert result.code != 0 and "failed authentication" in result.err
    assert project.read("data/a.txt") == "alpha\n" and not (project.path / "data/b.txt").exists()


# ------------------------------------------------------------------ v1 remotes stay readable


def v1_keys(key_text: str) -> tuple[bytes, bytes]:
    """(data key, name key) of the v1 construction: one HMAC of the raw key material each."""
    text = key_text.strip()
    master = bytes.fromhex(text) if len(text) == 64 else text.encode()
    data_key = hmac.digest(master, b"llmpipe remote data key v1", "sha256")
    return data_key, hmac.digest(master, b"llmpipe remote name key v1", "sha256")


def v1_seal(data_key: bytes, data: bytes, oid: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, prefix = AESGCM(data_key), os.urandom(8)
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    out = [b"LLMPENC1" + prefix]
    for index, chunk in enumerate(chunks):
        aad = oid.encode() + struct.pack(">IB", index, index == len(chunks) - 1)
        out.append(aead.encrypt(prefix + struct.pack(">I", index), chunk, aad))
    return b"".join(out)


def v1_open(data_key: bytes, blob: bytes, oid: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert blob[:8] == b"LLMPENC1"
    aead, prefix, body = AESGCM(data_key), blob[8:16], blob[16:]
    sealed = [body[i : i + CHUNK + 16] for i in range(0, len(body), CHUNK + 16)] or [b""]
    plain = []
    for index, chunk in enumerate(sealed):
        aad = oid.encode() + struct.pack(">IB", index, index == len(sealed) - 1)
        plain.append(aead.decrypt(prefix + struct.pack(">I", index), chunk, aad))
    return b"".join(plain)


def v1_path(name_key: bytes, oid: str) -> str:
    digest = hmac.new(name_key, oid.encode(), "sha256").hexdigest()
    return f"llmpipe-encrypted/{digest[:2]}/{digest[2:]}"


def write_v1_remote(remote: Path, key_text: str, objects: dict[str, bytes]) -> None:
    data_key, name_key = v1_keys(key_text)
    sealed = {KEYCHECK: v1_seal(data_key, b"llmpipe remote key check v1", "keycheck")}
    sealed.update({v1_path(name_key, oid): v1_seal(data_key, d, oid) for oid, d in objects.items()})
    for relpath, blob in sealed.items():
        (remote / relpath).parent.mkdir(parents=True, exist_ok=True)
        (remote / relpath).write_bytes(blob)


@pytest.mark.parametrize("key_text", [HEX_KEY, PASSPHRASE])
def test_a_v1_remote_still_pulls_and_stays_v1(project, tmp_path, monkeypatch, key_text) -> None:  # noqa: ANN001
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", key_text)
    files = {"data/a.txt": b"alpha\n", "data/big.bin": big_file()}
    track(project, files)
    remote = tmp_path / "remote"
    write_v1_remote(remote, key_text, {md5(d): d for d in files.values()})
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("remote", "modify", "store", "encrypt", "true")
    assert json.loads(project.ok("status", "-c", "--json").out) == {}
    forget_local(project, *files)
    project.ok("pull")
    assert (project.path / "data/big.bin").read_bytes() == big_file()

    # Writes to a v1 remote stay v1, so clients of the old version keep reading it.
    track(project, {"data/new.txt": b"new\n"})
    project.ok("push")
    data_key, name_key = v1_keys(key_text)
    blob = (remote / v1_path(name_key, md5(b"new\n"))).read_bytes()
    assert v1_open(data_key, blob, md5(b"new\n")) == b"new\n"
    monkeypatch.setenv("LLMPIPE_REMOTE_KEY", "77" * 32)
    result = project.cli("fetch")
    assert result.code != 0 and "wrong key" in result.err
