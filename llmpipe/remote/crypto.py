"""Client-side encryption of remote objects: AES-256-GCM in chunks, keyed object names.

A file is split into 1 MiB chunks; each is sealed with AES-256-GCM under a
nonce made of a random per-object prefix and the chunk index, with the
object's hash, the index and a last-chunk flag as associated data. So a chunk
cannot be modified, reordered, dropped, truncated away or moved to another
object without decryption failing. Object names on the remote are
HMAC-SHA256(name key, hash), so the remote learns neither contents nor hashes.
Both keys are derived from one master key (environment variable or key file).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import TYPE_CHECKING, BinaryIO

from ..errors import CryptoError

if TYPE_CHECKING:
    from .config import RemoteConfig

MAGIC = b"LLMPENC1"
CHUNK = 1 << 20
TAG = 16
_PREFIX = 8
KEY_ENV = "LLMPIPE_REMOTE_KEY"
_MIN_KEY_BYTES = 16
_CHECK_TEXT = b"llmpipe remote key check v1"


def key_env_names(remote_name: str) -> list[str]:
    """Environment variables consulted for a remote's key, most specific first."""
    special = "".join(c if c.isalnum() else "_" for c in remote_name).upper()
    return [f"{KEY_ENV}_{special}", KEY_ENV]


def load_key(remote: RemoteConfig) -> bytes:
    """The master key of `remote`: `key_env` option, LLMPIPE_REMOTE_KEY[_NAME], or `key_file`.

    CryptoError says where a key may come from when none is found or it is too short.
    """
    names = [remote.options["key_env"]] if remote.options.get("key_env") else []
    names += key_env_names(remote.name)
    for name in names:
        if os.environ.get(name):
            return _material(os.environ[name], f"${name}")
    key_file = remote.options.get("key_file")
    if key_file:
        path = os.path.expanduser(key_file)
        try:
            with open(path, encoding="utf-8") as handle:
                return _material(handle.read(), path)
        except OSError as exc:
            raise CryptoError(f"cannot read the key file of remote '{remote.name}': {exc}") from exc
    raise CryptoError(
        f"remote '{remote.name}' is encrypted but no key was found: set {' or '.join(names)}, "
        f"or run 'llmpipe remote modify --local {remote.name} key_file PATH' "
        "(make a key with: python -c 'import secrets; print(secrets.token_hex(32))')"
    )


def _material(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else text.encode("utf-8")
    except ValueError:
        raw = text.encode("utf-8")
    if len(raw) < _MIN_KEY_BYTES:
        raise CryptoError(f"the key in {where} is too short: use at least 32 random hex digits")
    return raw


class Cipher:
    """Seals and opens remote objects with keys derived from one master key."""

    def __init__(self, master: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(hmac.digest(master, b"llmpipe remote data key v1", "sha256"))
        self._name_key = hmac.digest(master, b"llmpipe remote name key v1", "sha256")

    def object_name(self, oid: str) -> str:
        """The remote name of object `oid` (64 hex digits)."""
        return hmac.new(self._name_key, oid.encode(), hashlib.sha256).hexdigest()

    def encrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        prefix = os.urandom(_PREFIX)
        dst.write(MAGIC + prefix)
        index = 0
        chunk = src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            dst.write(self._aead.encrypt(_nonce(prefix, index), chunk, _aad(oid, index, last)))
            if last:
                return
            chunk, index = following, index + 1

    def decrypt_stream(self, src: BinaryIO, dst: BinaryIO, oid: str) -> None:
        """Write the plaintext of `src` to `dst`; CryptoError when anything was altered."""
        from cryptography.exceptions import InvalidTag

        header = src.read(len(MAGIC) + _PREFIX)
        if len(header) != len(MAGIC) + _PREFIX or not header.startswith(MAGIC):
            raise CryptoError(f"object {oid} on the remote is not an llmpipe-encrypted object")
        prefix = header[len(MAGIC) :]
        index = 0
        sealed = src.read(CHUNK + TAG)
        while True:
            following = src.read(CHUNK + TAG)
            last = not following
            try:
                dst.write(self._aead.decrypt(_nonce(prefix, index), sealed, _aad(oid, index, last)))
            except InvalidTag as exc:
                raise CryptoError(
                    f"object {oid} failed authentication: it was modified on the remote, "
                    "or the key is wrong"
                ) from exc
            if last:
                return
            sealed, index = following, index + 1

    def seal_bytes(self, data: bytes, oid: str) -> bytes:
        import io

        out = io.BytesIO()
        self.encrypt_stream(io.BytesIO(data), out, oid)
        return out.getvalue()

    def open_bytes(self, data: bytes, oid: str) -> bytes:
        import io

        out = io.BytesIO()
        self.decrypt_stream(io.BytesIO(data), out, oid)
        return out.getvalue()

    def key_check(self) -> bytes:
        """A small sealed blob stored on the remote to recognise the right key."""
        return self.seal_bytes(_CHECK_TEXT, "keycheck")

    def verify_key_check(self, blob: bytes, remote_name: str) -> None:
        try:
            ok = self.open_bytes(blob, "keycheck") == _CHECK_TEXT
        except CryptoError:
            ok = False
        if not ok:
            raise CryptoError(
                f"wrong key for encrypted remote '{remote_name}': its objects were encrypted "
                "with another key (check LLMPIPE_REMOTE_KEY or the remote's key_file)"
            )


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(oid: str, index: int, last: bool) -> bytes:
    return oid.encode() + struct.pack(">IB", index, int(last))
