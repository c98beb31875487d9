"""Signing keys: generation, file permissions, passphrases, selection."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from llmpipe.errors import CryptoError
from llmpipe.security import keys


def mode(path: str | Path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_generate_writes_owner_only_private_key(key_home: Path) -> None:
    key = keys.generate_key("alice")
    directory = key_home / "llmpipe" / "keys"
    assert Path(key.path) == directory / "alice.key"
    assert mode(directory) == 0o700
    assert mode(key.path) == 0o600
    assert (directory / "alice.pub").read_text().strip() == key.public_key
    assert b"ENCRYPTED" not in Path(key.path).read_bytes()


def test_fingerprint_is_sha256_of_raw_public_key() -> None:
    key = keys.generate_key("alice")
    raw = base64.b64decode(key.public_key.removeprefix("ed25519:"))
    assert len(raw) == 32
    expected = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert key.fingerprint == "SHA256:" + expected


def test_generate_refuses_to_overwrite_a_key() -> None:
    first = keys.generate_key("alice")
    with pytest.raises(CryptoError, match="already exists"):
        keys.generate_key("alice")
    assert keys.load_key(first.path).public_key == first.public_key


def test_invalid_key_name_is_refused() -> None:
    with pytest.raises(CryptoError, match="not a valid key name"):
        keys.generate_key("../evil")


def test_signature_round_trip_and_rejection() -> None:
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    signature = alice.sign(b"payload")
    assert keys.verify_signature(alice.public_key, b"payload", signature)
    assert not keys.verify_signature(alice.public_key, b"payload!", signature)
    assert not keys.verify_signature(bob.public_key, b"payload", signature)
    assert not keys.verify_signature(alice.public_key, b"payload", "not base64!")


def test_passphrase_protected_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.generate_key("secret", passphrase="correct horse")
    assert b"ENCRYPTED" in Path(key.path).read_bytes()
    with pytest.raises(CryptoError, match="passphrase-protected"):
        keys.load_key(key.path)
    monkeypatch.setenv("LLMPIPE_KEY_PASSPHRASE", "wrong")
    with pytest.raises(CryptoError, match="wrong passphrase"):
        keys.load_key(key.path)
    monkeypatch.setenv("LLMPIPE_KEY_PASSPHRASE", "correct horse")
    assert keys.load_key(key.path).public_key == key.public_key


def test_passphrase_from_callback() -> None:
    key = keys.generate_key("secret", passphrase="pw")
    assert keys.load_key(key.path, passphrase=lambda: "pw").fingerprint == key.fingerprint


def test_key_file_env_selects_another_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys.generate_key("default")
    ci = keys.generate_key("ci")
    moved = tmp_path / "ci-secret.pem"
    moved.write_bytes(Path(ci.path).read_bytes())
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(moved))
    loaded = keys.load_key()
    assert loaded.fingerprint == ci.fingerprint
    assert keys.current_key_path() == str(moved)


def test_missing_key_says_how_to_create_one() -> None:
    assert not keys.has_key()
    with pytest.raises(CryptoError, match="llmpipe keys generate"):
        keys.load_key()


def test_malformed_public_keys_are_refused() -> None:
    for text in ("ssh-ed25519 AAAA", "ed25519:AAAA", "ed25519:!!!"):
        with pytest.raises(CryptoError):
            keys.fingerprint(text)


def test_cli_generate_show_list_use(project, key_home: Path) -> None:  # noqa: ANN001
    out = project.ok("keys", "generate", "--name", "alice").out
    assert "Now signing with 'alice'" in out
    shown = project.ok("keys", "show").out
    alice = keys.load_key(str(key_home / "llmpipe" / "keys" / "alice.key"))
    assert alice.public_key in shown and alice.fingerprint in shown
    project.ok("keys", "generate", "--name", "bob")
    assert alice.fingerprint in project.ok("keys", "show").out  # the first key stays in use
    project.ok("keys", "use", "bob")
    listing = project.ok("keys", "list").out
    assert "* bob" in listing and "  alice" in listing
    assert project.cli("keys", "use", "nobody").code != 0


def test_cli_generate_with_passphrase_needs_one(project, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    result = project.cli("keys", "generate", "--passphrase")
    assert result.code != 0 and "LLMPIPE_KEY_PASSPHRASE" in result.err
    monkeypatch.setenv("LLMPIPE_KEY_PASSPHRASE", "s3cret")
    project.ok("keys", "generate", "--passphrase")
    assert keys.load_key().public_key  # unlocked through the environment
